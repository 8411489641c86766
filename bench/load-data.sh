#!/usr/bin/env bash
# The practical ceiling of a logical restore: tab-separated files loaded with LOAD DATA, two
# tables at a time, into a sandbox started with the engine's server options. Restore only
# (no replay); checked against the source's checksums at the backup point.
# Prints one JSON line of timings.
#
# usage: load-data.sh FLAVOR IMAGE TAB_DIR SCHEMA_SQL TRUTH_FILE SERVER_SCRIPT_FILE
set -euo pipefail
flavor=$1 image=$2 tabs=$3 schema=$4 truth=$5 server_script=$6
source "$(dirname "$0")/sandbox.sh" loaddata "$flavor"

t0=$(now)
# The server reads the files itself: they must sit in its --secure-file-priv folder.
sandbox_start "$image" "$server_script" -v "$tabs:/var/lib/mysql-files:ro" -v "$(dirname "$schema"):/schema:ro"
t1=$(now)
sql < "$schema"
# Largest table first, two sessions at once.
ls -S "$tabs" | grep '\.txt$' | sed 's/\.txt$//' | xargs -P 2 -I{} docker exec -i "$name" "$client" --user=root --socket=/sock/mysqld.sock -e \
  "SET SESSION unique_checks=0, foreign_key_checks=0; LOAD DATA INFILE '/var/lib/mysql-files/{}.txt' INTO TABLE bench.{} CHARACTER SET utf8mb4"
t2=$(now)
sandbox_report "$t0" "$t1" "$t2" "$(sandbox_matches "$truth")"
