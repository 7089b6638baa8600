#!/usr/bin/env bash
# Builds the Docker Compose v2 CLI from its Go module (it is not packaged in Debian bookworm) and
# caches it with Consul and Jaeger; then installs it as a CLI plugin in our own DOCKER_CONFIG, so
# `DOCKER_CONFIG=$CACHE_DIR/docker-config docker compose version` prints the pinned version.
# A build is skipped when the cached binary already reports that version.
#
#   bash scripts/docker/compose-cli.sh        (prints the plugin directory's DOCKER_CONFIG last)
#
# `go install` refuses this module (its go.mod has exclude directives), hence the copy + go build.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TAG=compose-cli

command -v go >/dev/null || die "$TAG" "the Go toolchain is required to build Docker Compose (go not on PATH)"

binary="$BIN_DIR/docker-compose"
if [[ -x $binary ]] && "$binary" version --short 2>/dev/null | grep -qx "${COMPOSE_VERSION#v}"; then
  step "$TAG" "docker compose $COMPOSE_VERSION already cached at $binary"
else
  log="$LOG_DIR/compose-build.log"
  work="$CACHE_DIR/build/compose-src"
  echo "# compose build, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(go version)" >"$log"
  t0=$(date +%s)
  step "$TAG" "downloading module github.com/docker/compose/v2@$COMPOSE_VERSION (log: $log)"
  json=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" 2>>"$log") ||
    { tail -n 20 "$log" >&2; die "$TAG" "module download failed"; }
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
  [[ -n $dir ]] || { echo "$json" >>"$log"; die "$TAG" "could not locate the compose module source (log: $log)"; }
  rm -rf "$work" && mkdir -p "$(dirname "$work")" && cp -r "$dir" "$work" && chmod -R u+w "$work"
  step "$TAG" "building with nice (a cold build takes ~1-3 min on 2 cores)"
  (cd "$work" && GOFLAGS=-mod=mod nice -n 10 go build -trimpath \
    -ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
    -o "$binary.tmp" ./cmd) >>"$log" 2>&1 </dev/null ||
    { tail -n 40 "$log" >&2; die "$TAG" "build failed (log: $log)"; }
  mv "$binary.tmp" "$binary"
  rm -rf "$work"
  step "$TAG" "built $("$binary" version) in $(( $(date +%s) - t0 ))s"
fi

mkdir -p "$SWITCHYARD_DOCKER_CONFIG/cli-plugins"
ln -sf "$binary" "$SWITCHYARD_DOCKER_CONFIG/cli-plugins/docker-compose"
