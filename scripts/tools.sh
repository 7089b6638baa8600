#!/usr/bin/env bash
# Builds the pinned Consul and Jaeger binaries from their Go modules and caches
# them outside the clone, so every clone (and CI on the same machine) reuses them.
# A build is skipped when the cached binary already reports the pinned version.
set -euo pipefail

CONSUL_VERSION=1.14.11
JAEGER_VERSION=1.76.0
BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/bin"
WORK_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/build"
export GOFLAGS=-mod=mod
mkdir -p "$BIN_DIR" "$WORK_DIR"

started=$(date +%s)
step() { echo "[tools +$(( $(date +%s) - started ))s] $*"; }

command -v go >/dev/null || { echo "tools: the Go toolchain is required (go not on PATH)" >&2; exit 1; }

build_consul() {
  if [[ -x "$BIN_DIR/consul" ]] && "$BIN_DIR/consul" version 2>/dev/null | grep -q "Consul v$CONSUL_VERSION"; then
    step "consul v$CONSUL_VERSION already cached at $BIN_DIR/consul"
    return
  fi
  step "consul: downloading module github.com/hashicorp/consul@v$CONSUL_VERSION"
  local dir
  dir=$(cd "$WORK_DIR" && go mod download -json "github.com/hashicorp/consul@v$CONSUL_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$dir" ]] || { echo "tools: could not locate the consul module source" >&2; exit 1; }
  local src="$WORK_DIR/consul-src"
  rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  # The module's go.mod points api/sdk/proto-public at sub-folders; drop those
  # replaces so the published sub-modules are used (go install refuses replaces).
  sed -i -E '/^replace github.com\/hashicorp\/consul\/(api|sdk|proto-public) => /d' "$src/go.mod"
  step "consul: building (a cold build takes ~3 min on 2 cores)"
  (cd "$src" && go build -trimpath -o "$BIN_DIR/consul.tmp" .)
  mv "$BIN_DIR/consul.tmp" "$BIN_DIR/consul"
  step "consul: $("$BIN_DIR/consul" version | head -1)"
}

build_jaeger() {
  if [[ -x "$BIN_DIR/jaeger" ]] && "$BIN_DIR/jaeger" version 2>/dev/null | grep -q "v$JAEGER_VERSION"; then
    step "jaeger v$JAEGER_VERSION already cached at $BIN_DIR/jaeger"
    return
  fi
  local mod="$WORK_DIR/jaeger-tool"
  rm -rf "$mod" && mkdir -p "$mod"
  step "jaeger: resolving github.com/jaegertracing/jaeger@v$JAEGER_VERSION"
  (cd "$mod" && go mod init switchyard.local/jaeger-tool >/dev/null 2>&1 \
    && go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION")
  step "jaeger: building (a cold build takes ~3 min on 2 cores)"
  (cd "$mod" && go build -trimpath -o "$BIN_DIR/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger)
  mv "$BIN_DIR/jaeger.tmp" "$BIN_DIR/jaeger"
  step "jaeger: built $BIN_DIR/jaeger"
}

case "${1:-all}" in
  consul) build_consul ;;
  jaeger) build_jaeger ;;
  all) build_consul; build_jaeger ;;
  *) echo "usage: $0 [consul|jaeger|all]" >&2; exit 2 ;;
esac
step "done; binaries in $BIN_DIR"
