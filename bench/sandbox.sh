#!/usr/bin/env bash
# Sourced by the restore-only baselines (load-data.sh, myloader.sh): one throwaway server
# started with the engine's server options, its client, a clock, the checksum comparison and
# the JSON line they print. Removed on exit. (baseline-drill.sh stays self-contained: it is
# the hand-written script the engine is compared with.)
#
# usage: source sandbox.sh ROLE FLAVOR
sandbox_role=$1 sandbox_flavor=$2
if [ "$sandbox_flavor" = mariadb ]; then client=mariadb; else client=mysql; fi
name=bench-$sandbox_role-$$
sock=$(mktemp -d "/tmp/bench-$sandbox_role-sock.XXXXXX")
chmod 777 "$sock"
now() { date +%s.%N; }
sandbox_cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$sock"; }
trap sandbox_cleanup EXIT
sql() { docker exec -i "$name" "$client" --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock "$@"; }

# sandbox_start IMAGE SERVER_SCRIPT_FILE [extra docker run options…]: returns once the server answers.
sandbox_start() {
  local image=$1 server_script=$2
  shift 2
  docker run -d --name "$name" --network none --label restore-drill.managed=true --label restore-drill.role=bench \
    -v "$sock:/sock" -e TZ=UTC "$@" "$image" bash -c "$(cat "$server_script")" >/dev/null
  until sql -N -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
}

# sandbox_matches TRUTH_FILE: prints true when CHECKSUM TABLE of the truth's tables equals it.
sandbox_matches() {
  local tables
  tables=$(cut -f1 "$1" | paste -sd, -)
  sql -N -e "CHECKSUM TABLE $tables" > "$sock/restored.tsv"
  if diff <(sort "$1") <(sort "$sock/restored.tsv") >/dev/null; then echo true; else echo false; fi
}

# sandbox_report T_START T_READY T_RESTORED MATCH: the one JSON line the benchmark reads.
sandbox_report() {
  awk -v t0="$1" -v t1="$2" -v t2="$3" -v ok="$4" 'BEGIN { printf "{\"ready\":%.3f,\"restore\":%.3f,\"match\":%s}\n", t1-t0, t2-t1, ok }'
}
