#!/usr/bin/env bash
# Local stand-ins for the images docker-compose.yml pulls, for a machine that cannot reach a
# container registry: built from a Debian root file system (debootstrap) and the binaries the
# project already builds or installs. Named switchyard-local/* and labelled as stand-ins; never
# tagged with an official image's name.
#
#   bash scripts/docker/stand-ins.sh          build what is missing or out of date, then print the
#                                             compose variables that select them (NAME=image lines)
#
# Needs DOCKER_HOST (scripts/docker/daemon.sh host). Each image carries a fingerprint of its
# inputs (Dockerfile, entry point, binary versions): an image whose fingerprint matches is reused.
#
#   switchyard-local/debian:bookworm     debootstrap --variant=minbase, from the machine's apt mirror
#   switchyard-local/node:24             Node 24 from the `node` npm package + npm, trusts the host's CAs
#   switchyard-local/consul:<version>    the cached Consul binary, the official entry point's contract
#   switchyard-local/jaeger:<version>    the cached Jaeger binary, all-in-one (no UI assets)
#   switchyard-local/mysql:mariadb       MariaDB honouring the mysql image's MYSQL_* variables
#   switchyard-local/redis:7             Debian's Redis 7
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
TAG=stand-ins
: "${DOCKER_HOST:?DOCKER_HOST must name the engine (scripts/docker/daemon.sh host)}"

SUITE=bookworm
ROOTFS="$CACHE_DIR/rootfs/$SUITE"
CONTEXTS="$CACHE_DIR/build/stand-ins"
BASE_IMAGE="switchyard-local/debian:$SUITE"
LABEL_KIND="switchyard.stand-in"
LABEL_PRINT="switchyard.stand-in.fingerprint"
LOG="$LOG_DIR/stand-ins.log"

image_fingerprint() { docker image inspect --format "{{index .Config.Labels \"$LABEL_PRINT\"}}" "$1" 2>/dev/null || true; }

# apt_mirror: the Debian archive the machine's apt is configured with (never written in the repo).
apt_mirror() {
  apt-cache policy 2>/dev/null | awk -v s="$SUITE/main" '$3 == s && $2 ~ /^https?:/ { print $2; exit }'
}

ensure_rootfs() {
  if [[ -f $ROOTFS/.switchyard-complete ]]; then return 0; fi
  apt_install "$TAG" debootstrap
  local mirror t0
  mirror=$(apt_mirror)
  if [[ -z $mirror ]]; then
    as_root apt-get update -qq >>"$LOG" 2>&1 || true
    mirror=$(apt_mirror)
  fi
  [[ -n $mirror ]] || die "$TAG" "no Debian $SUITE mirror found in the apt configuration (apt-cache policy)"
  t0=$(date +%s)
  step "$TAG" "debootstrap --variant=minbase $SUITE from the machine's apt mirror (~30-60 s; log: $LOG)"
  as_root rm -rf "$ROOTFS.tmp"
  mkdir -p "$(dirname "$ROOTFS")"
  as_root nice -n 10 env DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase "$SUITE" "$ROOTFS.tmp" "$mirror" >>"$LOG" 2>&1 ||
    { tail -n 20 "$LOG" >&2; die "$TAG" "debootstrap failed (log: $LOG)"; }
  # Small and reproducible enough for a base: no apt lists, no docs.
  as_root rm -rf "$ROOTFS.tmp"/var/lib/apt/lists/* "$ROOTFS.tmp"/var/cache/apt/*.bin "$ROOTFS.tmp"/usr/share/doc/* "$ROOTFS.tmp"/usr/share/man/*
  touch "$ROOTFS.tmp/.switchyard-complete"
  as_root rm -rf "$ROOTFS" && mv "$ROOTFS.tmp" "$ROOTFS"
  step "$TAG" "root file system ready in $(( $(date +%s) - t0 ))s"
}

ensure_base() {
  local print
  print="debootstrap-minbase-$SUITE-$(stat -c %Y "$ROOTFS/.switchyard-complete" 2>/dev/null || echo none)"
  if [[ $(image_fingerprint "$BASE_IMAGE") == "$print" ]]; then
    step "$TAG" "$BASE_IMAGE up to date"
    return 0
  fi
  ensure_rootfs
  print="debootstrap-minbase-$SUITE-$(stat -c %Y "$ROOTFS/.switchyard-complete")"
  step "$TAG" "docker import $BASE_IMAGE"
  as_root tar -C "$ROOTFS" --exclude=./.switchyard-complete -c . |
    docker import \
      --change "LABEL $LABEL_KIND=true" \
      --change "LABEL $LABEL_PRINT=$print" \
      --change "LABEL org.opencontainers.image.description=\"switchyard local stand-in: Debian $SUITE minbase (debootstrap)\"" \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      - "$BASE_IMAGE" >>"$LOG"
}

# build <name> <image> <identity> [file=source...]: build scripts/docker/stand-ins/<name> with the
# given files copied into its context, unless the image's fingerprint (Dockerfile, entry point,
# the identity string of its binaries) already matches.
build() {
  local name=$1 image=$2 identity=$3 print ctx t0 pair
  shift 3
  print=$( { cat "$HERE/stand-ins/$name"/*; echo "$identity"; image_fingerprint "$BASE_IMAGE"; } | sha256sum | cut -c1-16)
  if [[ $(image_fingerprint "$image") == "$print" ]]; then
    step "$TAG" "$image up to date"
    return 0
  fi
  t0=$(date +%s)
  ctx="$CONTEXTS/$name"
  rm -rf "$ctx" && mkdir -p "$ctx"
  cp -a "$HERE/stand-ins/$name/." "$ctx/"
  for pair in "$@"; do cp -aL "${pair#*=}" "$ctx/${pair%%=*}"; done
  step "$TAG" "building $image (log: $LOG)"
  # The classic builder (DOCKER_BUILDKIT=0) works with any engine and needs no buildx plugin;
  # the host's network, as this engine's builds have none of their own.
  DOCKER_BUILDKIT=0 nice -n 10 docker build --network host --pull=false \
    --build-arg "BASE=$BASE_IMAGE" \
    --label "$LABEL_KIND=true" --label "$LABEL_PRINT=$print" \
    --label "org.opencontainers.image.description=switchyard local stand-in ($name), see scripts/docker/stand-ins/$name" \
    -t "$image" "$ctx" >>"$LOG" 2>&1 || { tail -n 30 "$LOG" >&2; die "$TAG" "building $image failed (log: $LOG)"; }
  rm -rf "$ctx"
  step "$TAG" "$image built in $(( $(date +%s) - t0 ))s"
}

# Progress on stderr; stdout carries only the variables printed at the end.
exec 3>&1 1>&2
echo "# stand-ins $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$LOG"
ensure_base

node_bin="$REPO/node_modules/node/bin/node"
[[ -x $node_bin ]] || die "$TAG" "$node_bin is missing: run 'make setup' (npm install brings Node 24)"
# The npm CLI the machine runs (its package folder, from the `npm` on PATH: not `npm root -g`,
# which names the project's Node 24 prefix when run from an npm script).
npm_cli=$(command -v npm) || die "$TAG" "npm is not installed"
npm_dir=$(dirname "$(dirname "$(readlink -f "$npm_cli")")")
[[ -f $npm_dir/package.json && $(node -p "require('$npm_dir/package.json').name" 2>/dev/null) == npm ]] ||
  die "$TAG" "the npm CLI's package was not found from $npm_cli (looked in $npm_dir)"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
[[ -f $ca_bundle ]] || die "$TAG" "the host's CA bundle $ca_bundle is missing (Debian package ca-certificates)"
node_version=$("$node_bin" --version)
npm_version=$(node -p "require('$npm_dir/package.json').version")
build node "switchyard-local/node:24" "node $node_version npm $npm_version ca $(sha256sum <"$ca_bundle" | cut -c1-16)" \
  "node=$node_bin" "npm=$npm_dir" "host-ca-certificates.crt=$ca_bundle"

bash "$REPO/scripts/tools.sh" >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "$TAG" "make tools failed (log: $LOG)"; }
consul_version=$("$BIN_DIR/consul" version | sed -n '1s/^Consul v//p')
# Content hashes, not times: a rebuilt but identical binary (-trimpath) keeps its image.
build consul "switchyard-local/consul:$consul_version" "consul $consul_version $(sha256sum <"$BIN_DIR/consul" | cut -c1-16)" "consul=$BIN_DIR/consul"
jaeger_version=$(go version -m "$BIN_DIR/jaeger" | awk '$1 == "mod" && $2 == "github.com/jaegertracing/jaeger" { print substr($3, 2) }')
build jaeger "switchyard-local/jaeger:$jaeger_version" "jaeger $jaeger_version $(sha256sum <"$BIN_DIR/jaeger" | cut -c1-16)" "jaeger=$BIN_DIR/jaeger"
build mysql "switchyard-local/mysql:mariadb" "mariadb from $SUITE"
build redis "switchyard-local/redis:7" "redis from $SUITE"

# The compose variables that select the stand-ins (scripts/docker/compose.sh exports them).
cat >&3 <<VARS
NODE_IMAGE=switchyard-local/node:24
CONSUL_IMAGE=switchyard-local/consul:$consul_version
JAEGER_IMAGE=switchyard-local/jaeger:$jaeger_version
MYSQL_IMAGE=switchyard-local/mysql:mariadb
REDIS_IMAGE=switchyard-local/redis:7
VARS
