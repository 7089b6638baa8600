#!/usr/bin/env bash
# The Docker engine our compose commands talk to.
#
#   bash scripts/docker/daemon.sh host     print the DOCKER_HOST to use, starting the private daemon
#                                          first when no engine answers and LOCAL_IMAGES=1
#   bash scripts/docker/daemon.sh start    start the private daemon (if it is not running)
#   bash scripts/docker/daemon.sh stop     stop the private daemon, only if this script started it
#   bash scripts/docker/daemon.sh status   print which engine answers (exit 3 when none)
#
# Which engine: the one DOCKER_HOST names when it is set; else the system's (/var/run/docker.sock)
# when it answers; else our private daemon when it runs; else, with LOCAL_IMAGES=1, a new private
# daemon. The private daemon is Debian's dockerd (package docker.io, installed when missing) with
# its own socket and its data root in the project's cache, so images and the build cache survive
# between runs; no iptables rules and no default bridge: compose's own bridge networks connect
# the containers, published ports go through the userland proxy. It starts in ~2 s.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TAG=docker
# exec-root holds containerd's sockets, whose paths must stay short (108 bytes).
EXEC_ROOT="/tmp/switchyard-dockerd-$(id -u)"
START_TIMEOUT_S=${SWITCHYARD_DOCKERD_TIMEOUT:-60}

private_answers() { [[ -S $PRIVATE_SOCKET ]] && DOCKER_HOST="unix://$PRIVATE_SOCKET" docker_answers; }

private_pid() {
  local pid
  pid=$(cat "$PRIVATE_PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start_private() {
  if private_answers; then
    step "$TAG" "private daemon already running (unix://$PRIVATE_SOCKET)" >&2
    return 0
  fi
  apt_install "$TAG" docker.io >&2
  command -v docker >/dev/null || die "$TAG" "the docker CLI is missing (Debian package docker.io)"
  local old
  if old=$(private_pid); then
    step "$TAG" "a private dockerd (pid $old) does not answer; stopping it" >&2
    stop_private >&2
  fi
  mkdir -p "$PRIVATE_DATA_ROOT" "$EXEC_ROOT"
  rm -f "$PRIVATE_SOCKET"
  local log="$LOG_DIR/dockerd.log" t0
  t0=$(date +%s%3N)
  step "$TAG" "starting a private dockerd: unix://$PRIVATE_SOCKET, data root $PRIVATE_DATA_ROOT (log: $log)" >&2
  # setsid: the daemon outlives the make target that started it; `daemon.sh stop` ends it.
  as_root setsid dockerd \
    -H "unix://$PRIVATE_SOCKET" \
    --data-root "$PRIVATE_DATA_ROOT" \
    --exec-root "$EXEC_ROOT" \
    --pidfile "$PRIVATE_PIDFILE" \
    --iptables=false --ip-masq=false --bridge=none \
    >>"$log" 2>&1 </dev/null &
  local deadline=$(( $(date +%s) + START_TIMEOUT_S ))
  until private_answers; do
    if (( $(date +%s) >= deadline )); then
      tail -n 20 "$log" >&2
      die "$TAG" "the private dockerd did not answer within ${START_TIMEOUT_S}s (log: $log)"
    fi
    sleep 0.2
  done
  step "$TAG" "private dockerd $(DOCKER_HOST="unix://$PRIVATE_SOCKET" docker version --format '{{.Server.Version}}') up in $(( $(date +%s%3N) - t0 )) ms" >&2
}

stop_private() {
  local pid
  if ! pid=$(private_pid); then
    step "$TAG" "no private dockerd of ours is running"
    return 0
  fi
  step "$TAG" "stopping the private dockerd (pid $pid; its containers stop with it)"
  as_root kill -TERM "$pid"
  local deadline=$(( $(date +%s) + 30 ))
  while kill -0 "$pid" 2>/dev/null; do
    if (( $(date +%s) >= deadline )); then
      step "$TAG" "dockerd still running after 30s; SIGKILL"
      as_root kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$PRIVATE_PIDFILE"
  step "$TAG" "private dockerd stopped"
}

# resolve_host: print the DOCKER_HOST of the engine to use, or fail with one line.
resolve_host() {
  if [[ -n ${DOCKER_HOST:-} ]]; then
    docker_answers || die "$TAG" "DOCKER_HOST=$DOCKER_HOST does not answer"
    echo "$DOCKER_HOST"
  elif [[ -S /var/run/docker.sock ]] && DOCKER_HOST=unix:///var/run/docker.sock docker_answers; then
    echo unix:///var/run/docker.sock
  elif private_answers; then
    echo "unix://$PRIVATE_SOCKET"
  elif [[ ${LOCAL_IMAGES:-0} == 1 ]]; then
    start_private
    echo "unix://$PRIVATE_SOCKET"
  elif ! command -v docker >/dev/null; then
    die "$TAG" "Docker is not installed: install Docker Engine with the Compose plugin (https://docs.docker.com/engine/install/), or run with LOCAL_IMAGES=1 to start a private engine from Debian's docker.io"
  else
    die "$TAG" "no Docker engine answers (docker version fails): start Docker, or run with LOCAL_IMAGES=1 to start a private engine from Debian's docker.io"
  fi
}

case "${1:-}" in
  host) resolve_host ;;
  start) start_private ;;
  stop) stop_private ;;
  status)
    if host=$(resolve_host 2>/dev/null); then
      echo "docker engine: $host ($(DOCKER_HOST=$host docker version --format '{{.Server.Version}}'))"
    else
      echo "docker engine: none answers"
      exit 3
    fi
    ;;
  *) sed -n '2,8s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
