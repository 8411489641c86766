#!/usr/bin/env bash
# A local S3-compatible server, so drills of teams' backups in object storage are tested against
# a real S3 API (list, head, ranged get, multipart) without reaching any cloud.
#
#   s3.sh binary   build rclone from the Go module proxy into $RD_CACHE/bin (cached)
#   s3.sh start    reuse a server answering on 127.0.0.1:$RD_S3_PORT, else start one
#   s3.sh stop     stop the server this script started (pid file)
#   s3.sh status   address, data folder and credential files; exit 1 when nothing answers
#
# `rclone serve s3` serves each sub-folder of $RD_HOME/s3/buckets as a bucket. Debian's rclone
# (1.60) predates `serve s3`, hence `go install`: 3-7 min cold on 2 cores (7 min measured on a busy
# host, 238 modules downloaded), about 20 s with a warm Go cache, then cached. Starts in under 1 s.
# The access key and secret are generated once into $RD_HOME/s3-credentials/ (outside the served
# folder, so they are never a bucket); configs and tests reference those files ({file: ...}).
# rclone takes every flag from RCLONE_<FLAG> too: the key reaches it as RCLONE_AUTH_KEY, never
# as an argument (arguments are world-readable in /proc/<pid>/cmdline).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

PORT=${RD_S3_PORT:-9768}
ADDR=127.0.0.1:$PORT
VERSION=v1.76.0
BIN=$RD_CACHE/bin/rclone
STATE=$RD_HOME/s3
BUCKETS=$STATE/buckets
CREDENTIALS=$RD_HOME/s3-credentials
PIDFILE=$STATE/server.pid
LOG=$RD_LOGS/s3.log

# `go install` builds say "rclone v1.76.0-DEV" (release builds stamp the version by ldflags).
have_binary() {
  local said
  [[ -x $BIN ]] && said=$("$BIN" version 2>/dev/null) || return 1
  said=${said%%$'\n'*}
  [[ $said == "rclone $VERSION" || $said == "rclone $VERSION-DEV" ]]
}

binary() {
  have_binary && return 0
  mkdir -p "$RD_CACHE/bin"
  # A parallel run may be building right now: wait for it instead of building twice.
  exec 8>"$RD_CACHE/rclone-build.lock"
  flock 8
  have_binary && return 0
  local start
  start=$(rd_now)
  rd_log "building rclone $VERSION with go install (3-7 min cold; log: $RD_LOGS/s3-build.log)"
  rd_go_install "github.com/rclone/rclone@$VERSION" s3-build || rd_die "could not build rclone $VERSION; see $RD_LOGS/s3-build.log"
  have_binary || rd_die "go install of rclone $VERSION succeeded but '$BIN version' does not say $VERSION (it says: $("$BIN" version 2>&1 | head -n 1))"
  rd_note "rclone: built $VERSION in $(($(rd_now) - start)) s"
}

# random_token LENGTH ALPHABET: from the kernel's generator, never a process argument. Fixed
# reads (no `tr </dev/urandom | head`: its SIGPIPE fails the pipeline under pipefail).
random_token() {
  local token=''
  while ((${#token} < $1)); do token+=$(head -c 512 /dev/urandom | LC_ALL=C tr -dc "$2"); done
  printf '%s' "${token:0:$1}"
}

# Generated once; later starts reuse them, so references in configs keep working.
credentials() {
  [[ -s $CREDENTIALS/access-key-id && -s $CREDENTIALS/secret-access-key ]] && return 0
  (
    umask 077
    mkdir -p "$CREDENTIALS"
    random_token 20 'A-Z0-9' >"$CREDENTIALS/access-key-id.new"
    random_token 40 'A-Za-z0-9' >"$CREDENTIALS/secret-access-key.new"
    mv "$CREDENTIALS/access-key-id.new" "$CREDENTIALS/access-key-id"
    mv "$CREDENTIALS/secret-access-key.new" "$CREDENTIALS/secret-access-key"
  )
  chmod 0700 "$CREDENTIALS"
  rd_log "generated S3 credentials in $CREDENTIALS"
}

# An S3 server refuses an unsigned request with an XML <Error>; anything else is not ours.
healthy() {
  local reply
  reply=$(
    exec 2>/dev/null
    exec 3<>"/dev/tcp/127.0.0.1/$PORT" || exit 1
    printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$ADDR" >&3
    timeout 5 cat <&3
  ) || return 1
  [[ $reply == HTTP/1.1\ * && $reply == *'<Error>'* ]]
}

our_pid() { rd_pid_of "$PIDFILE" 'serve s3'; }

start() {
  local start pid
  binary
  credentials
  start=$(rd_now)
  if healthy; then
    rd_note "s3 server: reused $ADDR"
  else
    if ! pid=$(our_pid); then
      rd_port_in_use "$PORT" && rd_die "port $PORT is taken by something that is not an S3 server; free it or set RD_S3_PORT"
      mkdir -p "$BUCKETS"
      # setsid+nohup: the server outlives this script. --etag-hash MD5: ETags as S3 gives them
      # for single-part objects, so a changed object is noticed by its ETag.
      (
        # A list flag's variable is CSV: the quotes keep "key,secret" one pair. RCLONE_CONFIG:
        # in-memory config, so a user's rclone.conf is neither read nor warned about.
        # printf is a builtin: the values appear in no process's arguments.
        # shellcheck disable=SC2089,SC2090 # the quotes are data, for rclone's CSV parser
        printf -v RCLONE_AUTH_KEY '"%s,%s"' "$(<"$CREDENTIALS/access-key-id")" "$(<"$CREDENTIALS/secret-access-key")"
        # shellcheck disable=SC2090
        export RCLONE_AUTH_KEY RCLONE_CONFIG=/dev/null
        exec setsid nohup "$BIN" serve s3 --addr "$ADDR" --etag-hash MD5 "$BUCKETS" >>"$LOG" 2>&1 </dev/null
      ) &
      pid=$!
      echo "$pid" >"$PIDFILE"
    fi
    rd_await_server "rclone serve s3" "$pid" "$PIDFILE" "$LOG" 100 0.2 healthy
    rd_note "s3 server: started on $ADDR in $(($(rd_now) - start)) s"
  fi
  describe
}

describe() {
  printf 'S3 endpoint:   http://%s (buckets are the folders of %s)\n' "$ADDR" "$BUCKETS"
  printf 'S3 key files:  %s/access-key-id, %s/secret-access-key\n' "$CREDENTIALS" "$CREDENTIALS"
}

stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PIDFILE"
    healthy && rd_die "an S3 server answers on $ADDR but was not started by this script (no pid file); stop it by hand"
    return 0
  fi
  rd_stop_pid rclone "$pid" "$PIDFILE"
}

status() {
  if healthy; then
    describe
    pid=$(our_pid) && printf 'S3 server:     pid %s\n' "$pid"
    return 0
  fi
  echo "S3: nothing answers on $ADDR; run $0 start"
  return 1
}

case ${1:-} in
  binary) binary ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) rd_die "usage: $0 start|stop|status|binary" ;;
esac
