#!/usr/bin/env bash
# One command for the benchmark: bash bench/run.sh [--size smoke|ci|1g] [--workload batch|oltp] [--flavor mariadb|mysql|both]
#   [--reps N] [--concurrency 1,2,4|none] [--growth on|off] [--physical on|off] [--fallback on|off] [--worker process|inline] [--save NAME]   (BENCH_SIZE=1g works as --size 1g)
# Needs the Docker engine, the images (deploy/images.sh) and the Temporal dev server (deploy/temporal.sh).
# Not run by deploy/test.sh: CI never gates on times. Results: bench/results/latest.{json,png}, and NAME.{json,png} with --save.
set -euo pipefail
cd "$(dirname "$0")/.."
# The myloader baseline's tool image (Debian's mydumper 0.10): needs the Debian mirror once; skipped when it cannot be built.
# The Dockerfile needs no context (bench/ holds the runs' work folders, sockets included), and an
# engine without a bridge network builds on the host's: apt reaches the mirror as the host's does.
if ! docker image inspect restore-drill/bench-mydumper:10.11 >/dev/null 2>&1; then
  docker build -q --force-rm --network host -t restore-drill/bench-mydumper:10.11 - < bench/mydumper.Dockerfile >/dev/null ||
    echo "bench: mydumper image not built: the myloader baseline is skipped" >&2
fi
npx tsc -p bench/tsconfig.json || echo "bench: type errors above; running what was emitted" >&2
exec node dist/bench-build/bench/bench.js "$@"
