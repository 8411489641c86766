#!/usr/bin/env bash
# The README's first command: bring everything up (Docker engine, images, Temporal dev server,
# build), start a sample source with a live writer, and run one drill end to end.
#   bash deploy/demo.sh [mariadb|mysql]
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/up.sh
exec node dist/cli/main.js demo --flavor "${1:-mariadb}"
