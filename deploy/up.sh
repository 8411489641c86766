#!/usr/bin/env bash
# Bring up everything restore-drill needs on this machine, reusing whatever is already there:
# Docker engine, the two database images, the Temporal dev server, node_modules and the build.
# Cold on a fresh machine: ~10 min (mostly the Temporal CLI build); warm: a few seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

RD_SUMMARY_FILE=$(mktemp)
OUT=$(mktemp) # what the steps print on stdout (the Temporal addresses), shown last
export RD_SUMMARY_FILE
trap 'rm -f "$RD_SUMMARY_FILE" "$OUT"' EXIT
summary=() total_start=$(rd_now)

# step LABEL CMD...: run CMD, then record its time and the notes it left ("reused ..."/"built ...").
step() {
  local label=$1 start notes
  shift
  start=$(rd_now)
  : >"$RD_SUMMARY_FILE"
  "$@" >>"$OUT"
  notes=$(paste -sd ';' "$RD_SUMMARY_FILE" | sed 's/;/; /g')
  summary+=("$(printf '  %-8s %4ss  %s' "$label" "$(($(rd_now) - start))" "${notes:-done}")")
}

npm_install() {
  cd "$RD_REPO_ROOT"
  command -v npm >/dev/null || rd_die "npm not found; install Node.js >= 20.3 first"
  # npm ci wipes node_modules, so only when the lock file changed since the last install.
  if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
    rd_run npm "npm ci (check network access to the npm registry)" npm ci --no-audit --no-fund
    rd_note "npm ci: installed"
  else
    rd_note "node_modules: reused (package-lock.json unchanged)"
  fi
}

npm_build() {
  cd "$RD_REPO_ROOT"
  # tsc takes ~10 s even with nothing to do: skip it when no source changed since the last
  # good build. The stamp's time is taken before the build, so edits made during it still count.
  local stamp=dist/.up-build-stamp
  if [[ -f $stamp && -z $(find . \( -path ./node_modules -o -path ./dist -o -path ./.git \) -prune -o \
    -type f \( -name '*.ts' -o -name '*.json' \) -newer "$stamp" -print -quit) ]]; then
    rd_note "build: reused dist/ (no source newer than the last build)"
    return
  fi
  local next
  next=$(mktemp)
  rd_run build "npm run build (TypeScript errors above)" npm run build
  mkdir -p dist && mv "$next" "$stamp"
  rd_note "npm run build: ok"
}

step docker bash "$RD_DEPLOY_DIR/docker-engine.sh"
step images bash "$RD_DEPLOY_DIR/images.sh" all
step temporal bash "$RD_DEPLOY_DIR/temporal.sh" start
step npm npm_install
step build npm_build

printf 'restore-drill environment ready in %ss\n' "$(($(rd_now) - total_start))"
printf '%s\n' "${summary[@]}"
cat "$OUT"
