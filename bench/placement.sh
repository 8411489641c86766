#!/usr/bin/env bash
# Sandbox placement: its cost on one drill, and a burst of drills over two hosts of capacity 1.
#   bash bench/placement.sh [--reps 3] [--burst 6] [--students 1000]
# Needs the Docker engine, the MariaDB 10.11 image and the Temporal dev server (deploy/up.sh). Never run by CI.
# Results: bench/results/placement.{json,png}.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p bench/tsconfig.json >/dev/null || echo "bench: type errors above; running what was emitted" >&2
exec node dist/bench-build/bench/placement.js "$@"
