# shellcheck shell=bash disable=SC2034  # sourced: the variables are used by the scripts that source it
# Shared by scripts/docker/*.sh (sourced, not run): where the Docker tooling of this project lives
# and how its steps report. Everything is cached beside Consul and Jaeger (scripts/tools.sh):
#
#   $CACHE_DIR/bin/docker-compose        the Compose v2 CLI built from its Go module
#   $CACHE_DIR/docker-config/            DOCKER_CONFIG for our commands (cli-plugins/docker-compose),
#                                        so nothing is written to the user's ~/.docker
#   $CACHE_DIR/docker/                   the private daemon's data root: images survive between runs
#   $CACHE_DIR/docker.sock, dockerd.pid  the private daemon's socket and pid (only when we started it)
#   $CACHE_DIR/rootfs/                   the debootstrap'ed Debian root file system of the stand-ins
#   $CACHE_DIR/logs/                     build and daemon logs
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard"
BIN_DIR="$CACHE_DIR/bin"
LOG_DIR="$CACHE_DIR/logs"
PRIVATE_SOCKET="$CACHE_DIR/docker.sock"
PRIVATE_PIDFILE="$CACHE_DIR/dockerd.pid"
PRIVATE_DATA_ROOT="$CACHE_DIR/docker"
# Our own CLI config: the compose plugin is found here whatever the user's ~/.docker holds.
SWITCHYARD_DOCKER_CONFIG="$CACHE_DIR/docker-config"
COMPOSE_VERSION="${SWITCHYARD_COMPOSE_VERSION:-v2.40.3}"
mkdir -p "$BIN_DIR" "$LOG_DIR"

_docker_started=${_docker_started:-$(date +%s%3N)}
# step <tag> <message>: one progress line with the time since the first step of this process.
step() {
  local tag=$1 ms
  shift
  ms=$(( $(date +%s%3N) - _docker_started ))
  printf '[%s +%d.%ds] %s\n' "$tag" $(( ms / 1000 )) $(( ms % 1000 / 100 )) "$*"
}
die() { echo "[$1] error: ${*:2}" >&2; exit 1; }

# as_root <cmd...>: run as root (directly, or through non-interactive sudo).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo -n "$@"; fi
}

# apt_install <tag> <package...>: install the Debian packages that are missing, saying so.
apt_install() {
  local tag=$1 missing=() pkg t0
  shift
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "$tag" "missing ${missing[*]} and no apt-get to install them; install them by hand"
  t0=$(date +%s)
  step "$tag" "installing Debian packages: apt-get install -y --no-install-recommends ${missing[*]}"
  as_root apt-get update -qq >>"$LOG_DIR/apt.log" 2>&1 || die "$tag" "apt-get update failed (log: $LOG_DIR/apt.log)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    </dev/null >>"$LOG_DIR/apt.log" 2>&1 || die "$tag" "apt-get install ${missing[*]} failed (log: $LOG_DIR/apt.log)"
  step "$tag" "installed ${missing[*]} in $(( $(date +%s) - t0 ))s"
}

# docker_answers: the daemon that DOCKER_HOST (or the default socket) points at answers.
docker_answers() { command -v docker >/dev/null && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }
