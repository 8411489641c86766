#!/usr/bin/env bash
# The Temporal dev server (SQLite, with Web UI) the drills run on.
#
#   temporal.sh binary   build the CLI from the Go module proxy into $RD_CACHE/bin (cached)
#   temporal.sh start    reuse a server answering on 127.0.0.1:$TEMPORAL_PORT, else start one
#   temporal.sh stop     stop the server this script started (pid file)
#   temporal.sh status   health and address; exit 1 when nothing answers
#
# No Temporal server ships in npm or Debian, so the CLI (which embeds the dev server) is built
# with `go install`: ~6 min cold on 2 cores (15-40 s with a warm Go build cache), then cached.
# The server keeps its history in $RD_HOME/temporal/dev.db across restarts. start-dev 1.29
# needs no --dynamic-config-value for us: custom search attributes come from --search-attribute.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

PORT=${TEMPORAL_PORT:-7233}
UI_PORT=${TEMPORAL_UI_PORT:-8233}
ADDR=127.0.0.1:$PORT
BIN=$RD_CACHE/bin/temporal
STATE=$RD_HOME/temporal
PIDFILE=$STATE/server.pid
LOG=$RD_LOGS/temporal.log
# v1.5.1 first (server 1.29.1); older tags only as a fallback. v1.6+ cannot be `go install`ed
# (its go.mod has a replace directive).
VERSIONS=(v1.5.1 v1.4.1 v1.3.0)
# Custom search attributes the workflows upsert; the UI and `workflow list --query` filter on them.
SEARCH_ATTRIBUTES=(DrillSource=Keyword DrillKind=Keyword DrillOutcome=Keyword
  DrillFailureType=Keyword DrillTarget=Keyword DrillRtoSeconds=Double)

have_binary() { [[ -x $BIN ]] && "$BIN" --version >/dev/null 2>&1; }

binary() {
  have_binary && return 0
  mkdir -p "$RD_CACHE/bin"
  # A parallel run may be building right now: wait for it instead of building twice.
  exec 8>"$RD_CACHE/temporal-build.lock"
  flock 8
  have_binary && return 0
  local v start
  start=$(rd_now)
  for v in "${VERSIONS[@]}"; do
    rd_log "building the Temporal CLI $v with go install (about 6 min cold; log: $RD_LOGS/temporal-build.log)"
    if rd_go_install "github.com/temporalio/cli/cmd/temporal@$v" temporal-build; then
      have_binary || rd_die "go install of $v succeeded but $BIN --version fails"
      rd_note "temporal CLI: built $v in $(($(rd_now) - start)) s"
      return 0
    fi
    rd_log "go install of temporal $v failed"
  done
  rd_die "could not build the Temporal CLI (tried ${VERSIONS[*]}); see $RD_LOGS/temporal-build.log. v1.5.1 needs Go >= 1.25 (have: $(go version 2>&1))"
}

healthy() { "$BIN" operator cluster health --address "$ADDR" --command-timeout 5s >/dev/null 2>&1; }

our_pid() { rd_pid_of "$PIDFILE" 'server start-dev'; }

# A server started by someone else (or before an attribute was added here) may lack some.
ensure_search_attributes() {
  local have sa missing=()
  have=$("$BIN" operator search-attribute list --address "$ADDR" --command-timeout 10s) ||
    rd_die "cannot list search attributes on $ADDR"
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -qw -- "${sa%%=*}" <<<"$have" || missing+=("$sa")
  done
  for sa in "${missing[@]}"; do
    rd_log "adding search attribute $sa"
    "$BIN" operator search-attribute create --address "$ADDR" --command-timeout 10s \
      --name "${sa%%=*}" --type "${sa#*=}" >>"$LOG" 2>&1 ||
      rd_die "could not create search attribute $sa on $ADDR; see $LOG"
  done
}

start() {
  local start pid sa args=()
  binary
  start=$(rd_now)
  if healthy; then
    rd_note "temporal server: reused $ADDR"
  else
    if ! pid=$(our_pid); then
      rd_port_in_use "$PORT" && rd_die "port $PORT is taken by something that is not a healthy Temporal server; free it or set TEMPORAL_PORT"
      rd_port_in_use "$UI_PORT" && rd_die "UI port $UI_PORT is taken; free it or set TEMPORAL_UI_PORT"
      mkdir -p "$STATE"
      for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
      # setsid+nohup: the server must outlive this script. Same db file every time, so
      # workflow history survives restarts.
      setsid nohup "$BIN" server start-dev --ip 127.0.0.1 --port "$PORT" \
        --ui-ip 127.0.0.1 --ui-port "$UI_PORT" --db-filename "$STATE/dev.db" \
        --log-level warn "${args[@]}" >>"$LOG" 2>&1 </dev/null &
      pid=$!
      echo "$pid" >"$PIDFILE"
    fi
    # Either we just started it or an earlier run's server is still coming up: wait.
    rd_await_server "the Temporal dev server" "$pid" "$PIDFILE" "$LOG" 60 1 healthy
    rd_note "temporal server: started on $ADDR in $(($(rd_now) - start)) s"
  fi
  ensure_search_attributes
  printf 'Temporal gRPC: %s\nTemporal UI:   http://127.0.0.1:%s\n' "$ADDR" "$UI_PORT"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE"
    if have_binary && healthy; then
      rd_die "a Temporal server answers on $ADDR but was not started by this script (no pid file); stop it by hand"
    fi
    return 0
  fi
  rd_stop_pid "dev server" "$pid" "$PIDFILE"
}

status() {
  have_binary || rd_die "the Temporal CLI is not built yet; run $0 binary"
  if healthy; then
    printf 'Temporal gRPC: %s (serving%s)\nTemporal UI:   http://127.0.0.1:%s\n' "$ADDR" \
      "$(pid=$(our_pid) && echo ", pid $pid")" "$UI_PORT"
  else
    echo "Temporal: nothing answers on $ADDR"
    return 1
  fi
}

case ${1:-} in
  binary) binary ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) rd_die "usage: $0 start|stop|status|binary" ;;
esac
