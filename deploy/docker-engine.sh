#!/usr/bin/env bash
# Make sure a Docker engine answers. Reuses a running one; otherwise installs Debian's docker.io
# (no registry is reachable here, so Docker's own repository is not an option) and starts dockerd
# in the background, because these machines have no systemd to do it.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

if docker info >/dev/null 2>&1; then
  rd_note "docker engine: reused (already running)"
  exit 0
fi

start=$(rd_now)
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  rd_apt_install docker.io
fi

# The socket exists but we may not use it: starting a second dockerd would not help.
if [[ -S /var/run/docker.sock && $(id -u) != 0 ]]; then
  rd_die "docker info fails and you are not root: add yourself to the docker group or run as root"
fi

# A dockerd that is still starting (e.g. a parallel up.sh) gets waited for, not duplicated.
if ! pgrep -x dockerd >/dev/null; then
  [[ $(id -u) == 0 ]] || rd_die "dockerd is not running and only root can start it"
  rd_log "starting dockerd (log: $RD_LOGS/dockerd.log)"
  # setsid+nohup: the engine must outlive this script and the shell that ran it.
  setsid nohup dockerd >>"$RD_LOGS/dockerd.log" 2>&1 </dev/null &
  pid=$!
fi

for _ in $(seq 60); do
  if docker info >/dev/null 2>&1; then
    rd_note "docker engine: started in $(($(rd_now) - start)) s"
    exit 0
  fi
  [[ -z ${pid:-} ]] || kill -0 "$pid" 2>/dev/null || break # ours died: no point waiting
  sleep 1
done
tail -n 20 "$RD_LOGS/dockerd.log" 2>/dev/null | sed 's/^/    | /' >&2 || true
rd_die "dockerd exited or did not answer 'docker info' within 60 s. See $RD_LOGS/dockerd.log; on a machine without cgroups or overlayfs try 'dockerd --storage-driver=vfs'"
