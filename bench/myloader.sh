#!/usr/bin/env bash
# The myloader baseline: a mydumper directory (taken at the backup point) loaded by
# `myloader -t 2` from a tool container on the sandbox's socket, into a sandbox started with
# the engine's server options. Restore only; checked against the source's checksums at the
# backup point. Prints one JSON line of timings.
#
# usage: myloader.sh FLAVOR IMAGE MYDUMPER_DIR TRUTH_FILE SERVER_SCRIPT_FILE TOOL_IMAGE
set -euo pipefail
flavor=$1 image=$2 dumpdir=$3 truth=$4 server_script=$5 tool=$6
source "$(dirname "$0")/sandbox.sh" myloader "$flavor"

t0=$(now)
sandbox_start "$image" "$server_script"
t1=$(now)
docker run --rm --network none --label restore-drill.managed=true --label restore-drill.role=bench -v "$sock:/sock" -v "$dumpdir:/dump:ro" "$tool" \
  myloader --socket=/sock/mysqld.sock --user=root --directory=/dump --threads=2 --overwrite-tables >/dev/null
t2=$(now)
sandbox_report "$t0" "$t1" "$t2" "$(sandbox_matches "$truth")"
