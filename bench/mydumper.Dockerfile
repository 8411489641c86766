# mydumper/myloader 0.10 from Debian bookworm on top of the engine's MariaDB image: the
# benchmark's myloader baseline (not part of the engine). Built by bench/run.sh when missing.
FROM restore-drill/mariadb:10.11
RUN apt-get update && apt-get install -y --no-install-recommends mydumper && rm -rf /var/lib/apt/lists/*
