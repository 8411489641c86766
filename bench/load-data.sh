#!/usr/bin/env bash
# The practical ceiling of a logical restore: tab-separated files loaded with LOAD DATA, two
# tables at a time, into a sandbox started with the engine's server options. Restore only
# (no replay); checked against the source's checksums at the backup point.
# Prints one JSON line of timings.
#
# usage: load-data.sh FLAVOR IMAGE TAB_DIR SCHEMA_SQL TRUTH_FILE SERVER_SCRIPT_FILE
set -euo pipefail
flavor=$1 image=$2 tabs=$3 schema=$4 truth=$5 server_script=$6
if [ "$flavor" = mariadb ]; then client=mariadb; else client=mysql; fi
name=bench-loaddata-$$
sock=$(mktemp -d /tmp/bench-loaddata-sock.XXXXXX)
chmod 777 "$sock"
now() { date +%s.%N; }
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$sock"; }
trap cleanup EXIT
sql() { docker exec -i "$name" "$client" --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock "$@"; }

t0=$(now)
# The server reads the files itself: they must sit in its --secure-file-priv folder.
docker run -d --name "$name" --network none --label restore-drill.managed=true --label restore-drill.role=bench \
  -v "$sock:/sock" -v "$tabs:/var/lib/mysql-files:ro" -v "$(dirname "$schema"):/schema:ro" -e TZ=UTC "$image" bash -c "$(cat "$server_script")" >/dev/null
until sql -N -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
t1=$(now)
sql < "$schema"
# Largest table first, two sessions at once.
ls -S "$tabs" | grep '\.txt$' | sed 's/\.txt$//' | xargs -P 2 -I{} docker exec -i "$name" "$client" --user=root --socket=/sock/mysqld.sock -e \
  "SET SESSION unique_checks=0, foreign_key_checks=0; LOAD DATA INFILE '/var/lib/mysql-files/{}.txt' INTO TABLE bench.{} CHARACTER SET utf8mb4"
t2=$(now)
tables=$(cut -f1 "$truth" | paste -sd, -)
sql -N -e "CHECKSUM TABLE $tables" > "$sock/restored.tsv"
if diff <(sort "$truth") <(sort "$sock/restored.tsv") >/dev/null; then ok=true; else ok=false; fi
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v ok="$ok" 'BEGIN { printf "{\"ready\":%.3f,\"restore\":%.3f,\"match\":%s}\n", t1-t0, t2-t1, ok }'
