#!/usr/bin/env bash
# Builds the worker image (deploy/worker.Dockerfile) with no registry: the build context is staged
# here from this host's node binary, dist/ and only the production packages of node_modules.
# Usage: bash deploy/worker-image.sh [tag]   (default restore-drill/worker:latest; base: RD_WORKER_BASE)
set -euo pipefail
cd "$(dirname "$0")/.."
tag=${1:-restore-drill/worker:latest}
base=${RD_WORKER_BASE:-restore-drill/mariadb:10.11}
docker image inspect "$base" >/dev/null || { echo "base image $base is missing: run deploy/images.sh" >&2; exit 1; }
[ -f dist/cli/main.js ] || npx tsc -p tsconfig.json
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/app"
cp deploy/worker.Dockerfile "$stage/Dockerfile"
cp "$(readlink -f "$(command -v node)")" "$stage/node"
cp -a dist package.json "$stage/app/"
# Production dependencies only (no typescript, jest, eslint).
npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2 | sed "s#^$PWD/##" | sort -u > "$stage/modules.txt"
tar -cf - -T "$stage/modules.txt" | tar -C "$stage/app" -xf -
rm "$stage/modules.txt"
docker build --build-arg BASE="$base" -t "$tag" "$stage"
echo "built $tag from $base"
