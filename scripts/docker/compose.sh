#!/usr/bin/env bash
# Runs Docker Compose on this repository's docker-compose.yml, printing the command first.
#
#   bash scripts/docker/compose.sh <compose arguments...>     e.g. up -d --wait consul
#   bash scripts/docker/compose.sh --running <service>         exit 0 when the service has a running
#                                                              container (no output, no setup)
#
# Which engine: scripts/docker/daemon.sh (DOCKER_HOST, the system's, our private one).
# Which CLI: `docker compose` (v2 plugin), else a v2 `docker-compose`, else the one cached by
# scripts/docker/compose-cli.sh.
# LOCAL_IMAGES=1 makes it work on a machine with no Docker and no registry: it starts the private
# daemon when no engine answers, builds (or reuses) the Compose CLI and the local stand-in images
# (scripts/docker/stand-ins.sh), points the image variables at them (those you set yourself win)
# and builds with the host's network.
# CONSUL_CLUSTER=1 adds docker-compose.consul-cluster.yml (3 Consul servers, 2 client agents).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
TAG=compose
cd "$REPO"
LOCAL_IMAGES=${LOCAL_IMAGES:-0}
[[ $LOCAL_IMAGES == 0 || $LOCAL_IMAGES == 1 ]] || die "$TAG" "LOCAL_IMAGES is '$LOCAL_IMAGES': say 1 (local stand-ins, private engine if needed) or leave it unset"

# compose_cli: sets COMPOSE (an array) to a working Compose v2 command, or returns 1.
compose_cli() {
  local version
  if command -v docker >/dev/null && version=$(docker compose version --short 2>/dev/null) && [[ $version == [2-9]* || $version == v[2-9]* ]]; then
    COMPOSE=(docker compose)
  elif command -v docker-compose >/dev/null && version=$(docker-compose version --short 2>/dev/null) && [[ $version == [2-9]* || $version == v[2-9]* ]]; then
    COMPOSE=(docker-compose)
  elif [[ -x $SWITCHYARD_DOCKER_CONFIG/cli-plugins/docker-compose ]] && command -v docker >/dev/null; then
    # Our own DOCKER_CONFIG holds only the plugin: carry over nothing else of the user's.
    export DOCKER_CONFIG=$SWITCHYARD_DOCKER_CONFIG
    COMPOSE=(docker compose)
  else
    return 1
  fi
}

if [[ ${CONSUL_CLUSTER:-0} == 1 ]]; then
  export COMPOSE_FILE=docker-compose.yml:docker-compose.consul-cluster.yml
fi

if [[ ${1:-} == --running ]]; then
  service=${2:?usage: compose.sh --running <service>}
  DOCKER_HOST=$(bash "$HERE/daemon.sh" host 2>/dev/null) || exit 1
  export DOCKER_HOST
  compose_cli || exit 1
  [[ -n $("${COMPOSE[@]}" ps --status running --quiet "$service" 2>/dev/null) ]]
  exit
fi

DOCKER_HOST=$(bash "$HERE/daemon.sh" host) || exit 1
export DOCKER_HOST
if ! compose_cli; then
  if [[ $LOCAL_IMAGES == 1 ]]; then
    bash "$HERE/compose-cli.sh"
    compose_cli || die "$TAG" "the Compose CLI built by scripts/docker/compose-cli.sh does not run"
  else
    die "$TAG" "Docker Compose v2 is missing: install Docker's compose plugin (package docker-compose-plugin), or run with LOCAL_IMAGES=1 to build it from source"
  fi
fi

# Commands that only look at or remove containers need no images.
needs_images=1
case "${1:-}" in down | ps | logs | stop | kill | rm | top | events | port | ls) needs_images=0 ;; esac

if [[ $LOCAL_IMAGES == 1 && $needs_images == 1 ]]; then
  vars=$(bash "$HERE/stand-ins.sh") || exit 1
  while IFS='=' read -r name value; do
    [[ -n $name ]] || continue
    # A variable the user set explicitly wins over the stand-in.
    if [[ -z ${!name:-} ]]; then export "$name=$value"; fi
  done <<<"$vars"
  export BUILD_NETWORK=${BUILD_NETWORK:-host}
  step "$TAG" "LOCAL_IMAGES=1: engine $DOCKER_HOST; images NODE=$NODE_IMAGE CONSUL=$CONSUL_IMAGE JAEGER=$JAEGER_IMAGE MYSQL=$MYSQL_IMAGE REDIS=$REDIS_IMAGE"
fi

# Compose builds through buildx bake when it can; without the buildx plugin it warns and uses the
# engine's builder anyway: say so up front, quietly.
if [[ -z ${COMPOSE_BAKE:-} ]] && ! docker buildx version >/dev/null 2>&1; then export COMPOSE_BAKE=false; fi

echo "+ ${COMPOSE[*]} $*"
exec "${COMPOSE[@]}" "$@"
