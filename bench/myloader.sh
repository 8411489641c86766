#!/usr/bin/env bash
# The myloader baseline: a mydumper directory (taken at the backup point) loaded by
# `myloader -t 2` from a tool container on the sandbox's socket, into a sandbox started with
# the engine's server options. Restore only; checked against the source's checksums at the
# backup point. Prints one JSON line of timings.
#
# usage: myloader.sh FLAVOR IMAGE MYDUMPER_DIR TRUTH_FILE SERVER_SCRIPT_FILE TOOL_IMAGE
set -euo pipefail
flavor=$1 image=$2 dumpdir=$3 truth=$4 server_script=$5 tool=$6
if [ "$flavor" = mariadb ]; then client=mariadb; else client=mysql; fi
name=bench-myloader-$$
sock=$(mktemp -d /tmp/bench-myloader-sock.XXXXXX)
chmod 777 "$sock"
now() { date +%s.%N; }
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$sock"; }
trap cleanup EXIT
sql() { docker exec -i "$name" "$client" --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock "$@"; }

t0=$(now)
docker run -d --name "$name" --network none --label restore-drill.managed=true --label restore-drill.role=bench \
  -v "$sock:/sock" -e TZ=UTC "$image" bash -c "$(cat "$server_script")" >/dev/null
until sql -N -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
t1=$(now)
docker run --rm --network none --label restore-drill.managed=true --label restore-drill.role=bench -v "$sock:/sock" -v "$dumpdir:/dump:ro" "$tool" \
  myloader --socket=/sock/mysqld.sock --user=root --directory=/dump --threads=2 --overwrite-tables >/dev/null
t2=$(now)
tables=$(cut -f1 "$truth" | paste -sd, -)
sql -N -e "CHECKSUM TABLE $tables" > "$sock/restored.tsv"
if diff <(sort "$truth") <(sort "$sock/restored.tsv") >/dev/null; then ok=true; else ok=false; fi
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v ok="$ok" 'BEGIN { printf "{\"ready\":%.3f,\"restore\":%.3f,\"match\":%s}\n", t1-t0, t2-t1, ok }'
