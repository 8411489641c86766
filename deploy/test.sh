#!/usr/bin/env bash
# The README's test command: bring up what the tests need, then run every test (unit and
# integration, against the real Temporal dev server, Docker engine and MariaDB/MySQL
# containers). Ends with one line "N passed, N failed". Extra arguments go to jest.
set -euo pipefail
cd "$(dirname "$0")/.."
source deploy/lib.sh
bash deploy/up.sh
results=$RD_LOGS/jest-results.json
rm -f "$results"
rc=0
# Types and the workflow-determinism lint are part of the tests.
npx tsc --noEmit -p tsconfig.json || rc=$?
npx eslint . || rc=$?
# --runInBand: integration suites start workers and containers; one at a time on 2 cores.
# No --forceExit: every suite closes what it opened, also when it fails. A handle left open
# would keep jest from ending: jest writes its results file when the last test is done, and a
# jest still running a minute later is stopped and counted as one more failure.
hung=$RD_LOGS/jest-did-not-exit
rd_run_watched "$results" "$hung" 60 node_modules/.bin/jest --runInBand --json --outputFile="$results" "$@" || rc=$?
extra_failed=0
[[ -e $hung ]] && extra_failed=1
if [[ -s $results ]]; then
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites + Number(process.argv[2])} failed`)' "$results" "$extra_failed"
else
  echo "0 passed, 1 failed"
fi
exit "$rc"
