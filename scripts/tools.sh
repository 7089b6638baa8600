#!/usr/bin/env bash
# Builds the pinned Consul and Jaeger binaries from their Go modules and caches
# them outside the clone, so every clone (and CI on the same machine) reuses them.
# A build is skipped when the cached binary already reports the pinned version.
#
# Only step lines (with elapsed time) are printed; go's own output ("go: downloading ...",
# compiler messages) goes to $LOG_DIR/<tool>-build.log, whose tail is shown on failure.
set -euo pipefail

CONSUL_VERSION=1.14.11
JAEGER_VERSION=1.76.0
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard"
BIN_DIR="$CACHE_DIR/bin"
WORK_DIR="$CACHE_DIR/build"
LOG_DIR="$CACHE_DIR/logs"
export GOFLAGS=-mod=mod
mkdir -p "$BIN_DIR" "$WORK_DIR" "$LOG_DIR"

started=$(date +%s)
step() { echo "[tools +$(( $(date +%s) - started ))s] $*"; }

command -v go >/dev/null || { echo "tools: the Go toolchain is required (go not on PATH)" >&2; exit 1; }

# One build at a time per cache (two clones' `make setup`, or setup beside `make dev`): they would
# share go's work files and each binary's .tmp. The second waits, then finds the binary cached.
exec 9>"$CACHE_DIR/.tools.lock"
if ! flock -n 9; then
  step "another scripts/tools.sh is building into $CACHE_DIR; waiting for it"
  flock 9
fi

LOG=/dev/null  # set per tool by start_log

# start_log <tool>: (re)start the log that receives go's output for this tool's build.
start_log() {
  LOG="$LOG_DIR/$1-build.log"
  echo "# $1 build, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(go version)" >"$LOG"
}

# fail <message>: print the message and the tail of the current log, then exit.
fail() {
  echo "tools: $1" >&2
  echo "tools: last lines of $LOG:" >&2
  tail -n 40 "$LOG" | sed 's/^/    /' >&2
  exit 1
}

# quiet <dir> <description> <cmd...>: run cmd in dir with its output appended to $LOG;
# prints how long it took, or fails with the log tail.
quiet() {
  local dir=$1 what=$2 t0 rc=0
  shift 2
  t0=$(date +%s)
  echo "+ (cd $dir && $*)" >>"$LOG"
  (cd "$dir" && "$@") >>"$LOG" 2>&1 </dev/null || rc=$?
  [[ $rc -eq 0 ]] || fail "$what failed (exit $rc)"
  step "  $what done in $(( $(date +%s) - t0 ))s"
}

build_consul() {
  # Not `consul version | grep -q`: grep -q exits at the first match, consul may then die of
  # SIGPIPE, and pipefail would call a cached binary missing (a needless rebuild).
  if [[ -x "$BIN_DIR/consul" ]] && grep -q "Consul v$CONSUL_VERSION" <<<"$("$BIN_DIR/consul" version 2>/dev/null)"; then
    step "consul v$CONSUL_VERSION already cached at $BIN_DIR/consul"
    return
  fi
  start_log consul
  step "consul: downloading module github.com/hashicorp/consul@v$CONSUL_VERSION (log: $LOG)"
  local json="$WORK_DIR/consul-module.json"
  quiet "$WORK_DIR" "consul: module download" \
    sh -c 'go mod download -json "$1" >"$2"' _ "github.com/hashicorp/consul@v$CONSUL_VERSION" "$json"
  local dir
  dir=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' "$json")
  [[ -n "$dir" ]] || { cat "$json" >>"$LOG"; fail "could not locate the consul module source"; }
  local src="$WORK_DIR/consul-src"
  rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  # The module's go.mod points api/sdk/proto-public at sub-folders; drop those
  # replaces so the published sub-modules are used (go install refuses replaces).
  sed -i -E '/^replace github.com\/hashicorp\/consul\/(api|sdk|proto-public) => /d' "$src/go.mod"
  step "consul: building (a cold build takes ~3-4 min on 2 cores)"
  quiet "$src" "consul: build" go build -trimpath -o "$BIN_DIR/consul.tmp" .
  mv "$BIN_DIR/consul.tmp" "$BIN_DIR/consul"
  step "consul: $("$BIN_DIR/consul" version | head -1) at $BIN_DIR/consul"
}

build_jaeger() {
  # `go build` of a module does not stamp Jaeger's own version variables, so the check reads
  # the module version from the binary's Go build info instead of `jaeger version`.
  if [[ -x "$BIN_DIR/jaeger" ]] \
    && grep -Eq "^[[:space:]]+mod[[:space:]]+github.com/jaegertracing/jaeger[[:space:]]+v$JAEGER_VERSION[[:space:]]" <<<"$(go version -m "$BIN_DIR/jaeger" 2>/dev/null)"; then
    step "jaeger v$JAEGER_VERSION already cached at $BIN_DIR/jaeger"
    return
  fi
  start_log jaeger
  local mod="$WORK_DIR/jaeger-tool"
  rm -rf "$mod" && mkdir -p "$mod"
  step "jaeger: resolving github.com/jaegertracing/jaeger@v$JAEGER_VERSION (log: $LOG)"
  quiet "$mod" "jaeger: go mod init" go mod init switchyard.local/jaeger-tool
  quiet "$mod" "jaeger: module download" go get -tool "github.com/jaegertracing/jaeger/cmd/jaeger@v$JAEGER_VERSION"
  step "jaeger: building (a cold build takes ~3-4 min on 2 cores)"
  quiet "$mod" "jaeger: build" go build -trimpath \
    -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$JAEGER_VERSION" \
    -o "$BIN_DIR/jaeger.tmp" github.com/jaegertracing/jaeger/cmd/jaeger
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
