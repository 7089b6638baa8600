#!/usr/bin/env bash
# make dev: the local infrastructure plus every service as supervised local processes.
#
#   bash scripts/dev.sh
#
# 1. scripts/infra.sh starts whatever of mariadb/redis/consul/jaeger is not already running
#    (Jaeger is optional: without it, tracing is off and everything else runs).
# 2. scripts/migrate.ts (what `make migrate` runs) creates the database and applies every
#    service's pending migrations; a failed migration stops here, before any service starts.
# 3. `concurrently` runs gateway (:8080), webui (:8000), worker, hasher, two rng instances, one
#    auth and one social instance and two messenger instances (ephemeral ports, found through
#    Consul), each line prefixed with the process name. auth, social and messenger start only
#    once their src/main.ts exists.
# 4. Ctrl-C (SIGINT), SIGTERM or SIGHUP: every service gets exactly one SIGTERM, deregisters from
#    Consul and drains; a second Ctrl-C makes them exit at once. Then scripts/infra.sh stops the
#    components this run started, and only those.
#
# CONSUL_CLUSTER=1: instead of the dev agent, a real Consul cluster on loopback (scripts/cluster.sh:
# 3 servers, 2 client agents); the services register and discover through the client agents,
# alternating between them, as on two hosts; the UI is on the first server. The cluster is
# stopped on exit if this run started it.
# More instances: `make instance SERVICE=rng` (scripts/instance.sh) in another terminal.
# Environment: LOG_LEVEL (default info), ACCESS_LOG (default false here: the miner makes ~100
# requests/s, which would bury the lifecycle lines — registrations, instance changes, breakers;
# ACCESS_LOG=true shows a line per request; passed through
# like any other service variable); MYSQL_URL (default mysql://root@127.0.0.1:3306/switchyard);
# AUTH_KEY_ENCRYPTION_KEY (base64 of 32 bytes; encrypts auth's signing keys at rest; default: a
# fixed development-only key, so every auth instance of `make dev` and `make instance` shares
# it — never use it anywhere else); SWITCHYARD_DEV_KEEP_INFRA=1 leaves the infrastructure
# running on exit even if this run started it (the end-to-end test shares Consul with others).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"
export PATH="$REPO/node_modules/.bin:$PATH"

GATEWAY_PORT=8080
# The gateway's /health and /metrics: loopback only, off the public port.
GATEWAY_ADMIN_PORT=8081
WEBUI_PORT=8000
CONSUL_CLUSTER=${CONSUL_CLUSTER:-0}
CONSUL_URL=http://127.0.0.1:8500
# Cluster mode: the client agents the services use in turn, and the UI of the first server.
AGENTS=("$CONSUL_URL")
if [[ $CONSUL_CLUSTER == 1 ]]; then
  AGENTS=(http://127.0.0.21:8500 http://127.0.0.22:8500)
  CONSUL_URL=http://127.0.0.11:8500
fi
OTLP_URL=http://127.0.0.1:4318
JAEGER_UI=http://127.0.0.1:16686
# Longest a graceful stop may take (runService drains for at most 10 s) before SIGKILL.
STOP_TIMEOUT_S=30

# Output may go into a pipe whose reader is gone (`make dev | tee dev.log`, then Ctrl-C: tee dies
# first). SIGPIPE would kill this script before it stops the services: ignore it, and let a
# failed write be just a lost line.
trap '' PIPE
say() { echo "[dev] $*" 2>/dev/null || true; }
die() { echo "[dev] error: $*" >&2; exit 1; }

# ---------------------------------------------------------------- preconditions
[[ -x node_modules/.bin/concurrently && -x node_modules/.bin/node ]] ||
  die "dependencies are missing; run 'make setup' (npm install) first"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) === 24 ? 0 : 1)' ||
  die "Node 24 is required, found $(node --version) at $(command -v node); run 'make setup'"

# port_busy <port>: something already accepts connections there.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$GATEWAY_PORT" "$GATEWAY_ADMIN_PORT" "$WEBUI_PORT"; do
  port_busy "$port" && die "port $port is already in use (another 'make dev' running?); stop it first"
done

for entry in gateway/src/main.ts miner/src/{rng,hasher,worker,webui}/main.ts; do
  [[ -f $entry ]] || die "$entry is missing"
done
# The application services, while they are being written: each starts once its entry exists.
APP_SERVICES=()
for service in auth social messenger; do
  if [[ -f $service/src/main.ts ]]; then
    APP_SERVICES+=("$service")
  else
    say "note: $service/src/main.ts does not exist yet; $service is not started"
  fi
done

# ---------------------------------------------------------------- infrastructure
# infra.sh remembers what *it* started, whichever run that was; this run stops only the
# components that were down before it began, so a Consul someone else relies on keeps running.
OURS=()
LOCAL_CONSUL=consul
[[ $CONSUL_CLUSTER == 1 ]] && LOCAL_CONSUL=""
for component in mariadb redis $LOCAL_CONSUL jaeger; do
  bash scripts/infra.sh status "$component" >/dev/null 2>&1 || OURS+=("$component")
done
OUR_CLUSTER=0
if [[ $CONSUL_CLUSTER == 1 ]] && ! bash scripts/cluster.sh status >/dev/null 2>&1; then OUR_CLUSTER=1; fi

stop_our_infra() {
  if [[ ${SWITCHYARD_DEV_KEEP_INFRA:-0} == 1 ]]; then
    ((${#OURS[@]} == 0)) || say "leaving ${OURS[*]} running (SWITCHYARD_DEV_KEEP_INFRA=1)"
    return 0
  fi
  ((${#OURS[@]} == 0)) || bash scripts/infra.sh stop "${OURS[@]}" || true
  ((OUR_CLUSTER == 0)) || bash scripts/cluster.sh stop || true
}

bash scripts/infra.sh start mariadb redis $LOCAL_CONSUL || { stop_our_infra; die "the infrastructure did not start"; }
if [[ $CONSUL_CLUSTER == 1 ]]; then
  bash scripts/cluster.sh start || { stop_our_infra; die "the Consul cluster did not start"; }
fi
if ! bash scripts/infra.sh start jaeger; then
  say "warning: Jaeger did not start ('make tools' builds it); running without tracing"
  OTLP_URL=""
  JAEGER_UI="(tracing off)"
fi

# ---------------------------------------------------------------- migrations
export MYSQL_URL=${MYSQL_URL:-mysql://root@127.0.0.1:3306/switchyard}
say "applying migrations: node --import tsx scripts/migrate.ts (make migrate)"
node --import tsx scripts/migrate.ts || { stop_our_infra; die "migrations failed (see the line above); fix the file it names and run 'make dev' again"; }

# ---------------------------------------------------------------- services
export CONSUL_HTTP_ADDR=$CONSUL_URL
export OTEL_EXPORTER_OTLP_ENDPOINT=$OTLP_URL
export REDIS_URL=redis://127.0.0.1:6379
# Development only (base64 of the 32 ASCII bytes "switchyard-dev-key-encryption-32").
export AUTH_KEY_ENCRYPTION_KEY=${AUTH_KEY_ENCRYPTION_KEY:-c3dpdGNoeWFyZC1kZXYta2V5LWVuY3J5cHRpb24tMzI=}
export LOG_LEVEL=${LOG_LEVEL:-info}
export ACCESS_LOG=${ACCESS_LOG:-false}

# `exec` replaces the shell concurrently starts each command in, so the signal it forwards lands
# on the service itself.
run() { echo "exec env PORT=$1 node --import tsx $2"; }

SUPERVISOR=""
SIGNALS_SEEN=0
forward_stop() {
  SIGNALS_SEEN=$((SIGNALS_SEEN + 1))
  if ((SIGNALS_SEEN == 1)); then
    say "stopping: each service deregisters from Consul, then drains (Ctrl-C again to force)"
  else
    say "stopping without waiting for the drain"
  fi
  [[ -z $SUPERVISOR ]] || stop_services TERM
}

# stop_services <signal>: through concurrently, which forwards it to each service once; if
# concurrently itself is gone (it dies when its output pipe breaks), straight to the processes of
# its session (setsid below), which are then orphans nobody else will signal.
stop_services() {
  if kill -0 "$SUPERVISOR" 2>/dev/null; then
    kill "-$1" "$SUPERVISOR" 2>/dev/null || true
  else
    pkill "-$1" -s "$SUPERVISOR" 2>/dev/null || true
  fi
}
# Anything left of the services' session (they outlive concurrently if it dies).
services_left() { [[ -n $SUPERVISOR ]] && pgrep -s "$SUPERVISOR" >/dev/null 2>&1; }
trap forward_stop INT TERM HUP
if ((SIGNALS_SEEN > 0)); then stop_our_infra; exit 0; fi

say "starting the services"
# Every service stops by itself (deregisters, drains) if this script dies without stopping it
# (infra/src/server/supervisor.ts), e.g. on a `kill -9`.
export SUPERVISOR_PID=$$
# Own session (setsid): a terminal's Ctrl-C reaches only this script, which sends each service one
# SIGTERM through concurrently. Were the services in the terminal's process group, they would get
# SIGINT from the terminal *and* the forwarded copy, and runService treats a second signal as
# "exit now, skip the graceful stop".
# No --kill-others-on-fail: an instance that crashes or is `kill -9`ed is what discovery and the
# circuit breakers are there to survive, so the rest keeps running (concurrently reports the exit).
# No --restart-tries either: concurrently would also restart a service that failed while stopping.
NAMES=(gateway webui worker hasher rng-1 rng-2)
COLORS=(cyan magenta yellow blue green green)
COMMANDS=(
  "$(run "$GATEWAY_PORT" gateway/src/main.ts)"
  "$(run "$WEBUI_PORT" miner/src/webui/main.ts)"
  "$(run 0 miner/src/worker/main.ts)"
  "$(run 0 miner/src/hasher/main.ts)"
  "$(run 0 miner/src/rng/main.ts)"
  "$(run 0 miner/src/rng/main.ts)"
)
for service in "${APP_SERVICES[@]}"; do
  case $service in
    # Two messenger instances: REST calls and live connections spread over them.
    messenger) NAMES+=(messenger-1 messenger-2); COLORS+=(gray gray); COMMANDS+=("$(run 0 messenger/src/main.ts)" "$(run 0 messenger/src/main.ts)") ;;
    auth) NAMES+=("$service"); COLORS+=(red); COMMANDS+=("$(run 0 "$service/src/main.ts")") ;;
    *) NAMES+=("$service"); COLORS+=(white); COMMANDS+=("$(run 0 "$service/src/main.ts")") ;;
  esac
done
# Each process registers and discovers through the next Consul agent in turn (one unless cluster mode).
for i in "${!COMMANDS[@]}"; do
  COMMANDS[i]=${COMMANDS[i]/exec env /exec env CONSUL_HTTP_ADDR=${AGENTS[i % ${#AGENTS[@]}]} }
done
join() { local IFS=,; echo "$*"; }
setsid concurrently \
  --names "$(join "${NAMES[@]}")" \
  --prefix '[{name}]' --pad-prefix \
  --prefix-colors "$(join "${COLORS[@]}")" \
  "${COMMANDS[@]}" &
SUPERVISOR=$!
# A signal that arrived while concurrently was being launched found no pid to forward to.
if ((SIGNALS_SEEN > 0)); then stop_services TERM; fi


cat <<EOF 2>/dev/null || true
[dev] ------------------------------------------------------------------
[dev] API docs     http://127.0.0.1:$GATEWAY_PORT/api/docs   (OpenAPI: /api/openapi.json)
[dev] gateway      http://127.0.0.1:$GATEWAY_PORT/api/v1/rng/8   (curl -si: x-served-by rotates)
[dev] miner stats  http://127.0.0.1:$GATEWAY_PORT/api/v1/miner/stats
[dev] gateway admin http://127.0.0.1:$GATEWAY_ADMIN_PORT/metrics   (and /health/ready; loopback only)
[dev] webui        http://127.0.0.1:$WEBUI_PORT/
[dev] balancing    http://127.0.0.1:$WEBUI_PORT/balancing   (every service's instances and their traffic, live)
[dev] Consul UI    $CONSUL_URL/ui
[dev] Jaeger UI    $JAEGER_UI
[dev] services     ${NAMES[*]}
[dev] one more instance: make instance SERVICE=rng   (or messenger, auth, social, hasher, worker, webui, gateway)
[dev] Ctrl-C stops everything
[dev] ------------------------------------------------------------------
EOF

# A trapped signal interrupts `wait`; from then on, poll until concurrently and every service of
# its session are gone, with a bound.
status=0
wait "$SUPERVISOR" || status=$?
if ((SIGNALS_SEEN == 0)) && ! kill -0 "$SUPERVISOR" 2>/dev/null && services_left; then
  say "concurrently exited while services still run; stopping them"
  stop_services TERM
fi
interrupted=0
kill -0 "$SUPERVISOR" 2>/dev/null && interrupted=1
if ((interrupted)) || services_left; then
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while kill -0 "$SUPERVISOR" 2>/dev/null || services_left; do
    if ((SECONDS >= deadline)); then
      say "services still running ${STOP_TIMEOUT_S}s after SIGTERM; sending SIGKILL"
      kill -KILL -- "-$SUPERVISOR" 2>/dev/null || true
      pkill -KILL -s "$SUPERVISOR" 2>/dev/null || true
    fi
    sleep 0.2 || true  # a Ctrl-C also hits this sleep: not a reason to stop waiting
  done
  if ((interrupted)); then
    status=0
    wait "$SUPERVISOR" || status=$?
  fi
fi
trap - INT TERM HUP

stop_our_infra
if ((SIGNALS_SEEN > 0)); then
  say "stopped"
  exit 0
fi
say "every service exited (concurrently exit code $status)"
exit "$status"
