# shellcheck shell=bash
# Shared helpers for the deploy/ scripts. Source it; it does nothing by itself.
#
# Conventions other code depends on:
#   RD_HOME  - state that must survive: temporal db, artifacts, sandboxes, logs.
#   RD_CACHE - slow-to-build things that can be thrown away: the temporal binary, build scratch.

RD_HOME=${RESTORE_DRILL_HOME:-$HOME/.restore-drill}
RD_CACHE=${RESTORE_DRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/restore-drill}
RD_LOGS=$RD_HOME/logs
RD_DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
RD_REPO_ROOT=$(cd "$RD_DEPLOY_DIR/.." && pwd)
export RD_HOME RD_CACHE RD_LOGS
mkdir -p "$RD_HOME" "$RD_CACHE" "$RD_LOGS"

# Progress and errors go to stderr so stdout stays usable by callers (e.g. temporal.sh prints the address).
rd_log() { printf '[restore-drill %s] %s\n' "$(basename "$0" .sh)" "$*" >&2; }
rd_die() {
  printf '[restore-drill %s] ERROR: %s\n' "$(basename "$0" .sh)" "$*" >&2
  exit 1
}

# up.sh collects one line per component ("reused ..." / "built ...") through this file.
rd_note() { if [[ -n ${RD_SUMMARY_FILE:-} ]]; then printf '%s\n' "$*" >>"$RD_SUMMARY_FILE"; fi; }

# rd_run LOG DESCRIPTION CMD...: run quietly, output appended to $RD_LOGS/LOG.log.
# On failure show the tail of that log, so the error is visible without digging.
rd_run() {
  local log=$RD_LOGS/$1.log desc=$2 rc=0
  shift 2
  printf '\n=== %s: %s\n' "$(date -Is)" "$*" >>"$log"
  "$@" >>"$log" 2>&1 </dev/null || rc=$?
  if ((rc != 0)); then
    tail -n 25 "$log" | sed 's/^/    | /' >&2
    rd_die "$desc failed (exit $rc). Full log: $log"
  fi
}

# The Debian mirror this machine is configured with. Never hard-code one: machines differ.
# deb822 files first (field URIs of the first "Types: deb" stanza), then the one-line format.
rd_apt_mirror() {
  local uri=''
  if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
    uri=$(awk '
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { if (isdeb && u != "") { print u; exit } isdeb = 0; u = ""; next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") isdeb = 1 }
      tolower($1) == "uris:"  { u = $2 }
      END { if (isdeb && u != "") print u }
    ' /etc/apt/sources.list.d/*.sources | head -n 1)
  fi
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    # "deb [opts] URI suite comps": skip the optional [..] block.
    uri=$(awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; if ($2 ~ /^\[/) i++; print $i; exit }' /etc/apt/sources.list)
  fi
  [[ -n $uri ]] || rd_die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list; configure apt first"
  printf '%s\n' "${uri%/}"
}

# Install Debian packages, running apt-get update at most once per script run.
RD_APT_UPDATED=${RD_APT_UPDATED:-}
rd_apt_install() {
  [[ $(id -u) == 0 ]] || rd_die "need root to apt-get install $*; run as root or install them by hand"
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z $RD_APT_UPDATED ]]; then
    rd_run apt "apt-get update" apt-get update
    RD_APT_UPDATED=1
  fi
  rd_log "installing Debian packages: $*"
  rd_run apt "apt-get install $*" apt-get install -y --no-install-recommends "$@"
}

# Seconds since the epoch, for timings.
rd_now() { date +%s; }

# ---- servers this project builds with Go and runs in the background (temporal.sh, s3.sh) ----

# rd_go_install MODULE@VERSION LOGNAME: `go install` into $RD_CACHE/bin, once more without the
# checksum database when that is what was unreachable. Output appended to $RD_LOGS/LOGNAME.log;
# on failure the attempt's tail is shown and the status is 1 (the caller decides what next).
rd_go_install() {
  local module=$1 log=$RD_LOGS/$2.log attempt=$RD_LOGS/$2.attempt.log
  [[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
  command -v go >/dev/null || rd_die "Go is not installed; install Go (/usr/local/go) to build $module"
  if GOBIN=$RD_CACHE/bin go install "$module" >"$attempt" 2>&1 </dev/null ||
    { grep -qE 'sum\.golang\.org|verifying .*(module|go\.mod)' "$attempt" &&
      rd_log "checksum database unreachable; retrying $module with GOSUMDB=off" &&
      GOSUMDB=off GOBIN=$RD_CACHE/bin go install "$module" >>"$attempt" 2>&1 </dev/null; }; then
    cat "$attempt" >>"$log"
    return 0
  fi
  cat "$attempt" >>"$log"
  tail -n 10 "$attempt" | sed 's/^/    | /' >&2
  return 1
}

# rd_pid_of PIDFILE PATTERN: the pid in PIDFILE when that process's command line still holds
# PATTERN (pids get reused); status 1 otherwise.
rd_pid_of() {
  local pid
  [[ -f $1 ]] || return 1
  pid=$(<"$1")
  [[ -n $pid && -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2" &&
    printf '%s\n' "$pid"
}

rd_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# rd_await_server NAME PID PIDFILE LOG TRIES DELAY HEALTHY_CMD...: wait until HEALTHY_CMD
# succeeds; a server that exits meanwhile, or never answers, stops the script with its log's tail.
rd_await_server() {
  local name=$1 pid=$2 pidfile=$3 log=$4 tries=$5 delay=$6
  shift 6
  for _ in $(seq "$tries"); do
    "$@" && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$log" | sed 's/^/    | /' >&2
      rm -f "$pidfile"
      rd_die "$name exited at start; see $log"
    fi
    sleep "$delay"
  done
  "$@" || rd_die "$name (pid $pid) did not answer within $(awk "BEGIN { print $tries * $delay }") s; see $log"
}

# rd_stop_pid NAME PID PIDFILE: SIGTERM, 15 s to exit, then SIGKILL; the pid file goes.
rd_stop_pid() {
  local name=$1 pid=$2 pidfile=$3
  kill "$pid"
  for _ in $(seq 30); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.5
  done
  rd_log "$name (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# rd_run_watched RESULTS MARKER GRACE CMD...: run CMD (jest), which writes RESULTS when its last
# test is done. If CMD is still running GRACE seconds after RESULTS appeared (a test left a handle
# open), it is stopped and MARKER is made. Returns CMD's exit status (1 when it was stopped).
rd_run_watched() {
  local results=$1 marker=$2 grace=$3 pid watchdog rc=0
  shift 3
  rm -f "$marker"
  "$@" &
  pid=$!
  (
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
      if [[ -s $results ]] && (((waited += 1) > grace)); then
        echo "jest finished its tests but did not exit within $grace s: a test left a handle open (find it with: node_modules/.bin/jest --runInBand --detectOpenHandles TEST_FILE)" >&2
        touch "$marker"
        kill "$pid"
        break
      fi
      sleep 1
    done
  ) &
  watchdog=$!
  wait "$pid" || rc=$?
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  [[ -e $marker ]] && rc=1
  return "$rc"
}
