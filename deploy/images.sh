#!/usr/bin/env bash
# Build the database server images the drills restore into, from Debian packages only
# (no container registry is reachable here, and none may be needed by a test).
#
#   images.sh [mariadb|mariadb-11.8|mysql|all] [--verify] [--rebuild]
#     default all; --verify re-tests existing images; --rebuild builds even if they exist
#
#   restore-drill/mariadb:10.11  MariaDB 10.11 LTS from bookworm (debootstrap minbase).
#   restore-drill/mariadb:11.8   MariaDB 11.8 LTS from trixie (debootstrap minbase).
#   restore-drill/mysql:9.7      Oracle's MySQL 9.7 as packaged in sid (debootstrap minbase).
# All have /var/lib/mysql initialised at build time and owned by root, and default to
# running the server as root. Images carry LABEL io.restore-drill.image=<flavor>.
#
# RD_MARIADB_IMAGE / RD_MARIADB_11_8_IMAGE / RD_MYSQL_IMAGE name another image to use instead
# (e.g. mysql:8.4): this script then only checks it is present locally, or tries one `docker pull`.
#
# Measured on the 2-core dev machine (2026-11): cold build mariadb 102 s idle / 176 s under load
# (472 MB), mariadb 11.8 84 s (510 MB), mysql 77-90 s (655 MB), each including a test start of
# the server; warm run 0.1 s.
# The sid debootstrap works with bookworm's debian-archive-keyring as it is.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/lib.sh"

# Bump when the recipe below changes: an image with another recipe label is rebuilt.
RECIPE=1
# kind -> default image; kind -> flavor (the server and client names); kind -> Debian suite.
declare -A DEFAULT=([mariadb]=restore-drill/mariadb:10.11 [mariadb-11.8]=restore-drill/mariadb:11.8 [mysql]=restore-drill/mysql:9.7)
declare -A FLAVOR=([mariadb]=mariadb [mariadb-11.8]=mariadb [mysql]=mysql)
declare -A SUITE=([mariadb]=bookworm [mariadb-11.8]=trixie [mysql]=sid)
KINDS=(mariadb mariadb-11.8 mysql)
# RD_MARIADB_IMAGE, RD_MARIADB_11_8_IMAGE, RD_MYSQL_IMAGE (test/integration/servers.ts reads the same names).
env_of() { local v=${1^^}; echo "RD_${v//[^A-Z0-9]/_}_IMAGE"; }

what=all verify=0 rebuild=0
for arg in "$@"; do
  case $arg in
    mariadb | mariadb-11.8 | mysql | all) what=$arg ;;
    --verify) verify=1 ;;
    --rebuild) rebuild=1 ;;
    *) rd_die "usage: $0 [mariadb|mariadb-11.8|mysql|all] [--verify] [--rebuild]" ;;
  esac
done

docker info >/dev/null 2>&1 || rd_die "Docker engine not answering; run deploy/docker-engine.sh first"

# Everything temporary is registered here and removed on any exit, success or failure.
TMP_DIRS=() TMP_CONTAINERS=() TMP_IMAGES=()
cleanup() {
  local d m
  for m in "${TMP_CONTAINERS[@]}"; do docker rm -f "$m" >/dev/null 2>&1 || true; done
  for m in "${TMP_IMAGES[@]}"; do docker rmi "$m" >/dev/null 2>&1 || true; done
  for d in "${TMP_DIRS[@]}"; do
    # debootstrap mounts proc/sys inside the rootfs; a failed run can leave them mounted,
    # and rm -rf must never walk into those.
    awk -v d="$d" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "$d" 2>/dev/null || true
  done
}
trap cleanup EXIT

recipe_of() { docker image inspect -f '{{index .Config.Labels "io.restore-drill.recipe"}}' "$1" 2>/dev/null; }

# debootstrap SUITE REQUIRED OPTIONAL: sets ROOTFS (a global, not $(...), so that the cleanup
# list survives). Optional packages the suite lacks ("Couldn't find these debs") are dropped.
bootstrap() {
  local suite=$1 required=$2 optional=$3 dir missing rc
  command -v debootstrap >/dev/null || rd_apt_install debootstrap
  mkdir -p "$RD_CACHE/build"
  dir=$(mktemp -d "$RD_CACHE/build/rootfs-$suite.XXXXXX")
  TMP_DIRS+=("$dir")
  local attempt=$RD_LOGS/images.debootstrap.log
  while :; do
    rc=0
    debootstrap --variant=minbase --include="$required${optional:+,$optional}" \
      "$suite" "$dir" "$(rd_apt_mirror)" >"$attempt" 2>&1 </dev/null || rc=$?
    cat "$attempt" >>"$RD_LOGS/images.log"
    ((rc == 0)) && break
    missing=$(sed -n "s/.*Couldn't find these debs: //p" "$attempt")
    local drop='' p keep=''
    for p in ${optional//,/ }; do
      if [[ " $missing " == *" $p "* ]]; then drop+=" $p"; else keep+=${keep:+,}$p; fi
    done
    if [[ -z $drop ]]; then
      tail -n 20 "$attempt" | sed 's/^/    | /' >&2
      rd_die "debootstrap of $suite failed; full log: $RD_LOGS/images.log. If it is a signature error, check that debian-archive-keyring is up to date"
    fi
    rd_log "$suite has no$drop; building without it"
    optional=$keep
    # A half-filled target makes debootstrap refuse or misbehave: start from an empty dir.
    awk -v d="$dir" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "${dir:?}"/* || true
  done
  # Downloaded .debs, apt lists and docs are dead weight in an image that never runs apt.
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/usr/share/locale/*
  ROOTFS=$dir
}

# import DIR TAG FLAVOR: turn a rootfs into an image. --numeric-owner keeps the rootfs's own
# uids (mysql is a different uid in the image than any host user).
import() {
  local dir=$1 tag=$2 flavor=$3
  TMP_IMAGES+=("$tag")
  tar --numeric-owner -C "$dir" -c . | docker import \
    --change "LABEL io.restore-drill.image=$flavor" \
    --change "LABEL io.restore-drill.recipe=$RECIPE" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$tag" >>"$RD_LOGS/images.log" 2>&1 ||
    rd_die "docker import of $tag failed; see $RD_LOGS/images.log"
}

# init_datadir BASE SERVER CMD...: run CMD (which initialises /var/lib/mysql) in a container of
# BASE and commit the result as $CANDIDATE, with SERVER as the default command. Initialising
# once at build time saves every sandbox those seconds. Labels carry over from BASE.
init_datadir() {
  local base=$1 server=$2 name=rd-init-${1//[^a-zA-Z0-9_.-]/-}
  shift 2
  TMP_CONTAINERS+=("$name")
  rd_run images "initialising the datadir in $base ($*)" docker run --name "$name" --network none "$base" "$@"
  TMP_IMAGES+=("$CANDIDATE")
  rd_run images "docker commit of $CANDIDATE" docker commit \
    --change "CMD [\"$server\",\"--user=root\",\"--datadir=/var/lib/mysql\"]" "$name" "$CANDIDATE"
  docker rm "$name" >/dev/null
}

# The images run the server as root (--user=root): the engine starts it with its own command
# as root, and Oracle's packages create no mysql user anyway. The datadir is owned by root.
# build_mariadb SUITE: the same recipe for 10.11 (bookworm) and 11.8 (trixie).
build_mariadb() {
  local suite=$1 dir base=restore-drill/mariadb-base:tmp-$$
  bootstrap "$suite" mariadb-server,mariadb-client,mariadb-backup,gzip,bash,procps ''
  dir=$ROOTFS
  # The package's postinst is meant to run mariadb-install-db, but under debootstrap it leaves
  # /var/lib/mysql empty; initialise it ourselves. The pid file and default socket live in
  # /run/mysqld, which only the (absent) init script would create.
  rm -rf "${dir:?}"/var/lib/mysql/*
  mkdir -p "$dir/run/mysqld"
  chmod 1777 "$dir/run/mysqld"
  import "$dir" "$base" mariadb
  init_datadir "$base" mariadbd mariadb-install-db --user=root --datadir=/var/lib/mysql --skip-test-db
}

build_mysql() {
  local suite=$1 dir base=restore-drill/mysql-base:tmp-$$
  bootstrap "$suite" mysql-server-core,mysql-client,gzip,bash procps
  dir=$ROOTFS
  # /var/lib/mysql-files is the compiled-in --secure-file-priv dir: mysqld aborts at start if it
  # is missing. /run/mysqld holds the X plugin socket and pid file. The packages create neither
  # (the maintainer scripts that would are in mysql-server, which we do not install).
  mkdir -p "$dir/var/lib/mysql-files" "$dir/run/mysqld" "$dir/var/lib/mysql"
  chmod 750 "$dir/var/lib/mysql-files" # mysqld warns when it is world-readable
  chmod 1777 "$dir/run/mysqld"
  import "$dir" "$base" mysql
  init_datadir "$base" mysqld mysqld --initialize-insecure --user=root --datadir=/var/lib/mysql
}

# Start the server the way the engine does (root, no network, socket in a bind-mounted dir)
# and ask it for its version with the image's own client. Sets VERSION.
verify() {
  local flavor=$1 image=$2 server client sock name version=''
  if [[ $flavor == mariadb ]]; then server=mariadbd client=mariadb; else server=mysqld client=mysql; fi
  sock=$(mktemp -d "$RD_CACHE/verify-$flavor.XXXXXX")
  TMP_DIRS+=("$sock")
  chmod 1777 "$sock" # the server may run as another uid than the host's
  name=rd-verify-$flavor-$$
  TMP_CONTAINERS+=("$name")
  rd_run images "starting a $flavor server from $image" docker run -d --name "$name" --network none \
    -v "$sock:/sock" "$image" "$server" --user=root --datadir=/var/lib/mysql \
    --socket=/sock/mysqld.sock --skip-networking
  for _ in $(seq 120); do
    version=$(docker exec "$name" "$client" -uroot -S /sock/mysqld.sock -N -e 'select version()' 2>/dev/null) && break
    version=''
    if [[ $(docker inspect -f '{{.State.Running}}' "$name") != true ]]; then break; fi
    sleep 0.5
  done
  if [[ -z $version ]]; then
    docker logs "$name" 2>&1 | tail -n 20 | sed 's/^/    | /' >&2
    rd_die "$image: the $flavor server did not answer on its socket within 60 s (server log above)"
  fi
  docker rm -f "$name" >/dev/null
  VERSION=$version
}

# ensure KIND: the image of KIND present (built if it is ours, else found or pulled once).
ensure() {
  local kind=$1 flavor=${FLAVOR[$1]} default=${DEFAULT[$1]} var image start old
  var=$(env_of "$kind")
  image=${!var:-$default}
  if [[ $image != "$default" ]]; then
    # Someone else's image: we cannot build it, only find it.
    if ! docker image inspect "$image" >/dev/null 2>&1; then
      rd_log "$image is not present locally; trying docker pull once"
      docker pull "$image" >>"$RD_LOGS/images.log" 2>&1 ||
        rd_die "$kind image $image is unavailable: not present locally and 'docker pull' failed (no registry is reachable here?). Unset $var to use $default, built from Debian packages"
    fi
    rd_note "$kind image: using $image ($var)"
    return
  fi
  if ((!rebuild)) && [[ $(recipe_of "$image") == "$RECIPE" ]]; then
    if ((verify)); then
      verify "$flavor" "$image"
      rd_note "$kind image: reused $image, verified ($VERSION)"
    else
      rd_note "$kind image: reused $image"
    fi
    return
  fi
  start=$(rd_now) old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  rd_log "building $image from Debian packages (1-3 min; log: $RD_LOGS/images.log)"
  # Built under a temporary tag and tagged for real only once a server answers in it, so that
  # a failed build never leaves an image that the next run would take as good.
  CANDIDATE=$image-candidate-$$
  "build_$flavor" "${SUITE[$kind]}"
  verify "$flavor" "$CANDIDATE"
  docker tag "$CANDIDATE" "$image"
  # The image this one replaces goes, unless containers still use it (then docker keeps it).
  [[ -z $old ]] || docker rmi "$old" >/dev/null 2>&1 || true
  rd_note "$kind image: built $image ($VERSION) in $(($(rd_now) - start)) s"
}

# One builder at a time: a parallel run waits here, then finds the image built.
exec 9>"$RD_CACHE/images.lock"
flock 9

if [[ $what == all ]]; then
  for kind in "${KINDS[@]}"; do ensure "$kind"; done
else
  ensure "$what"
fi
