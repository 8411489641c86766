#!/usr/bin/env bash
# The hand-written drill a DBA would script: read the source's table checksums (in the
# background, as the engine's drill reads its checkpoint while it restores), start a throwaway
# server, gunzip | client, binlog tool | client, compare table checksums with the source's,
# remove the server. Same server options, dump and binlogs as the engine's drill. Prints one
# JSON line of timings; "match" also needs the source's checksums to equal the bench's ground
# truth (TRUTH_FILE), read before the run from the quiesced source.
#
# usage: baseline-drill.sh FLAVOR IMAGE DUMP BINLOG_DIR START_FILE START_POS STOP_FILE STOP_POS TRUTH_FILE SERVER_SCRIPT_FILE SOURCE_CONTAINER
set -euo pipefail
flavor=$1 image=$2 dump=$3 binlogs=$4 start_file=$5 start_pos=$6 stop_file=$7 stop_pos=$8 truth=$9 server_script=${10} source=${11}
if [ "$flavor" = mariadb ]; then client=mariadb; binlog=mariadb-binlog; else client=mysql; binlog=mysqlbinlog; fi
name=bench-baseline-$$
sock=$(mktemp -d /tmp/bench-baseline-sock.XXXXXX)
chmod 777 "$sock"
now() { date +%s.%N; }
cleanup() { docker rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$sock"; }
trap cleanup EXIT
sql() { docker exec -i "$name" "$client" --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock "$@"; }

tables=$(cut -f1 "$truth" | paste -sd, -)
t0=$(now)
docker exec "$source" "$client" --user=root --socket=/sock/mysqld.sock -N -e "CHECKSUM TABLE $tables" > "$sock/source.tsv" &
source_read=$!
docker run -d --name "$name" --network none --label restore-drill.managed=true --label restore-drill.role=bench \
  -v "$sock:/sock" -v "$(dirname "$dump"):/backup:ro" -v "$binlogs:/binlogs:ro" -e TZ=UTC "$image" bash -c "$(cat "$server_script")" >/dev/null
until sql -N -e 'SELECT 1' >/dev/null 2>&1; do sleep 0.1; done
t1=$(now)
docker exec -i "$name" bash -o pipefail -c "gunzip -c /backup/$(basename "$dump") | $client --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock"
t2=$(now)
# The files from the backup's binlog through the stop's, in order.
files=$(cd "$binlogs" && ls | grep -E '\.[0-9]+$' | sort | awk -v a="$start_file" -v b="$stop_file" '$0 >= a && $0 <= b { printf "/binlogs/%s ", $0 }')
docker exec -i -e TZ=UTC "$name" bash -o pipefail -c "$binlog --start-position=$start_pos --stop-position=$stop_pos $files | $client --binary-mode --default-character-set=utf8mb4 --user=root --socket=/sock/mysqld.sock"
t3=$(now)
sql -N -e "CHECKSUM TABLE $tables" > "$sock/restored.tsv"
wait "$source_read"
if diff <(sort "$sock/source.tsv") <(sort "$sock/restored.tsv") >/dev/null && diff <(sort "$truth") <(sort "$sock/source.tsv") >/dev/null; then match=true; else match=false; fi
t4=$(now)
docker rm -f "$name" >/dev/null
t5=$(now)
awk -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$t3" -v t4="$t4" -v t5="$t5" -v ok="$match" 'BEGIN {
  printf "{\"ready\":%.3f,\"restore\":%.3f,\"replay\":%.3f,\"checks\":%.3f,\"cleanup\":%.3f,\"total\":%.3f,\"match\":%s}\n", t1-t0, t2-t1, t3-t2, t4-t3, t5-t4, t5-t0, ok }'
