#!/usr/bin/env bash
# make instance SERVICE=<name>: one more instance of a service, in the foreground, next to a
# running `make dev`. It takes an ephemeral port (PORT=0, even for gateway and webui, whose
# fixed ports the first instances hold; the gateway's admin port too), registers in Consul and joins the rotation at once;
# Ctrl-C deregisters it and drains it.
#
#   bash scripts/instance.sh <service>      service: gateway auth social messenger rng hasher worker webui
#
# Environment: LOG_LEVEL, and anything a service reads (e.g. RNG_DELAY_MS) is passed through.
# MYSQL_URL and AUTH_KEY_ENCRYPTION_KEY default to what `make dev` uses, so a new auth instance
# decrypts the signing keys the first one stored (every auth instance must sign with the same keys).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export PATH="$REPO/node_modules/.bin:$PATH"

SERVICES=(gateway auth social messenger rng hasher worker webui)
# The dev agent, or any other (e.g. a client agent of `make cluster-up`: http://127.0.0.21:8500);
# CONSUL_CLUSTER=1 (as `CONSUL_CLUSTER=1 make dev`) picks the cluster's second client agent.
DEFAULT_AGENT=http://127.0.0.1:8500
[[ ${CONSUL_CLUSTER:-0} == 1 ]] && DEFAULT_AGENT=http://127.0.0.22:8500
CONSUL_URL=${CONSUL_HTTP_ADDR:-$DEFAULT_AGENT}

die() { echo "instance: $*" >&2; exit "${2:-1}"; }
usage() {
  echo "usage: make instance SERVICE=<service>   (or: bash scripts/instance.sh <service>)" >&2
  echo "       service: ${SERVICES[*]}" >&2
  exit 2
}

[[ $# -eq 1 && -n $1 ]] || usage
service=$1
case $service in
  gateway | auth | social | messenger) entry=$service/src/main.ts ;;
  rng | hasher | worker | webui) entry=miner/src/$service/main.ts ;;
  -h | --help) usage ;;
  *) echo "instance: unknown service '$service'" >&2; usage ;;
esac
[[ -f $entry ]] || die "$service is not implemented yet ($entry does not exist)"

node -e 'process.exit(Number(process.versions.node.split(".")[0]) === 24 ? 0 : 1)' 2>/dev/null ||
  die "Node 24 is required, found $(node --version 2>/dev/null || echo none); run 'make setup'"
curl -sf --max-time 2 -o /dev/null "$CONSUL_URL/v1/status/leader" ||
  die "Consul does not answer at $CONSUL_URL; start 'make dev' (or 'bash scripts/infra.sh start') first"

# Trace only when Jaeger is there to receive them.
otlp=""
curl -sf --max-time 1 -o /dev/null http://127.0.0.1:16686/api/services && otlp=http://127.0.0.1:4318

echo "instance: starting one more $service (ephemeral port; Ctrl-C removes it)"
# exec: the service is this terminal's foreground process, so Ctrl-C reaches it exactly once.
# SUPERVISOR_PID: whoever ran this script (make, a shell); the service stops by itself, deregistering
# and draining, if that process goes away without stopping it (infra/src/server/supervisor.ts).
exec env SUPERVISOR_PID="$PPID" PORT=0 ADMIN_PORT=0 CONSUL_HTTP_ADDR="$CONSUL_URL" OTEL_EXPORTER_OTLP_ENDPOINT="$otlp" \
  REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" LOG_LEVEL="${LOG_LEVEL:-info}" ACCESS_LOG="${ACCESS_LOG:-false}" \
  MYSQL_URL="${MYSQL_URL:-mysql://root@127.0.0.1:3306/switchyard}" \
  AUTH_KEY_ENCRYPTION_KEY="${AUTH_KEY_ENCRYPTION_KEY:-c3dpdGNoeWFyZC1kZXYta2V5LWVuY3J5cHRpb24tMzI=}" \
  node --import tsx "$entry"
