#!/usr/bin/env bash
# Bring up everything restore-drill needs on this machine, reusing whatever is already there:
# Docker engine, the database images (MariaDB 10.11 and 11.8, MySQL 9.7), the Temporal dev
# server, node_modules and the build.
# Cold on a fresh machine: ~8-10 min (mostly the Temporal CLI build); warm: about 1 s.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

RD_SUMMARY_FILE=$(mktemp)
OUT=$(mktemp) # what the steps print on stdout (the Temporal addresses), shown last
BIN_NOTES=$(mktemp) BIN_OUT=$(mktemp)
trap 'rm -f "$RD_SUMMARY_FILE" "$OUT" "$BIN_NOTES" "$BIN_OUT"' EXIT
export RD_SUMMARY_FILE
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
    # The npm registry reachable here lacks the other platforms' optional packages (e.g.
    # @swc/core-darwin-arm64 is a 404), so the lock file cannot list them and `npm ci` calls it
    # "out of sync" although `npm install` accepts it unchanged. Fall back to that, saving nothing.
    if npm ci --no-audit --no-fund >"$RD_LOGS/npm.log" 2>&1 </dev/null; then
      rd_note "npm ci: installed"
    elif grep -q 'Missing: .* from lock file' "$RD_LOGS/npm.log"; then
      rd_run npm "npm install (after npm ci refused the lock file)" npm install --no-save --no-audit --no-fund
      rd_note "npm install --no-save: installed (npm ci refused the lock file: registry lacks other platforms' optional packages)"
    else
      tail -n 25 "$RD_LOGS/npm.log" | sed 's/^/    | /' >&2
      rd_die "npm ci failed (see $RD_LOGS/npm.log); check access to the npm registry"
    fi
  else
    rd_note "node_modules: reused (package-lock.json unchanged)"
  fi
  # An optional dependency: when it cannot build, zstd goes through the host's zstd, slower.
  if node -e "require('zstd-napi/binding')" >/dev/null 2>&1; then
    rd_note "zstd-napi: loads"
  else
    rd_note "zstd-napi did not build (see $RD_LOGS/npm.log): zstd backups are read through the host's zstd"
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

# On a cold machine the Temporal CLI build (~6 min, Go) and the image builds (~4 min, mostly
# download and dpkg) overlap well, so the CLI builds in the background meanwhile.
RD_SUMMARY_FILE=$BIN_NOTES bash "$RD_DEPLOY_DIR/temporal.sh" binary >"$BIN_OUT" 2>&1 &
bin_pid=$!
temporal_start() {
  wait "$bin_pid" || { cat "$BIN_OUT" >&2; rd_die "building the Temporal CLI failed (output above)"; }
  cat "$BIN_NOTES" >>"$RD_SUMMARY_FILE"
  bash "$RD_DEPLOY_DIR/temporal.sh" start
}

# The UI test drives Debian's Chromium headless (a browser download cannot work here).
browser() {
  if command -v chromium >/dev/null; then
    rd_note "chromium: reused"
  else
    rd_apt_install chromium
    rd_note "chromium: installed"
  fi
}

# zstd and xz decompress teams' backups on the worker host (Node 20's zlib has neither).
# prometheus and promtool test the alert rules in deploy/monitoring (only the binaries are used:
# the tests start their own server; the package's service is not started here).
# mydumper is test-time only: it makes a team's backup as a cron job would (test/integration/team-mydumper.test.ts).
# g++, make and python3 let npm ci build the zstd-napi binding (verify decompresses zstd in-process with it).
host_tools() {
  local missing=()
  command -v g++ >/dev/null || missing+=(g++)
  command -v make >/dev/null || missing+=(make)
  command -v python3 >/dev/null || missing+=(python3)
  command -v zstd >/dev/null || missing+=(zstd)
  command -v xz >/dev/null || missing+=(xz-utils)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v mydumper >/dev/null || missing+=(mydumper)
  if ((${#missing[@]} > 0)); then
    rd_apt_install "${missing[@]}"
    rd_note "installed ${missing[*]}"
  else
    rd_note "g++, zstd, xz, prometheus, mydumper: reused"
  fi
}

step tools host_tools
step docker bash "$RD_DEPLOY_DIR/docker-engine.sh"
step images bash "$RD_DEPLOY_DIR/images.sh" all
step temporal temporal_start
step s3 bash "$RD_DEPLOY_DIR/s3.sh" start
step npm npm_install
step build npm_build
step browser browser

printf 'restore-drill environment ready in %ss\n' "$(($(rd_now) - total_start))"
printf '%s\n' "${summary[@]}"
cat "$OUT"
