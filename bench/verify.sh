#!/usr/bin/env bash
# restore-drill verify against gzip -t / zstd -t on the same dump, from disk and from the S3 server.
#   bash bench/verify.sh [--mib 512] [--reps 3] [--save NAME]
# Needs the S3 server and its rclone (deploy/s3.sh, run by deploy/up.sh). No Docker. Never run by CI.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json >/dev/null || echo "bench: type errors above; running what was emitted" >&2
npx tsc -p bench/tsconfig.json >/dev/null || echo "bench: type errors above; running what was emitted" >&2
exec node dist/bench-build/bench/verify.js "$@"
