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
# --forceExit: a handle a failed test left open (a Docker event stream) must not keep the run from ending.
npx jest --runInBand --forceExit --json --outputFile="$results" "$@" || rc=$?
if [[ -s $results ]]; then
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests + r.numRuntimeErrorTestSuites} failed`)' "$results"
else
  echo "0 passed, 1 failed"
fi
exit "$rc"
