#!/usr/bin/env bash
# A real Consul cluster on loopback: three servers and two client agents, each on its own
# loopback address with Consul's default ports, the shape of a production datacenter on one
# machine (the chaos suite runs services through their own client agent, as in production).
#
#   scripts/cluster.sh start              start every node that is not running; wait for a leader and 5 members
#   scripts/cluster.sh stop               stop every node (SIGTERM, then SIGKILL)
#   scripts/cluster.sh status             one line per node; exit 3 unless all five run and a leader exists
#   scripts/cluster.sh leader             the leader's node name (server-N), exit 1 while there is none
#   scripts/cluster.sh kill <node>        kill -9 one node (server-1..3, client-1..2)
#   scripts/cluster.sh start <node>...    start those nodes again (same data dir: a server rejoins its raft)
#   scripts/cluster.sh addr <node>        its HTTP address, e.g. http://127.0.0.21:8500
#
# Addresses: server-N on 127.0.0.1N (N = 1..3), client-N on 127.0.0.2N; every Linux loopback
# address up to 127.255.255.254 answers without any alias. The dev-mode agent of scripts/infra.sh
# (127.0.0.1) runs beside it untouched. Raft timing is Consul's default (raft_multiplier 5, so
# a new leader takes ~15 s after the old one dies); CLUSTER_RAFT_MULTIPLIER=1 is what Consul
# recommends for production servers. State (data, logs, pids): $SWITCHYARD_STATE_DIR/cluster.
set -euo pipefail

BIN="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/bin/consul"
STATE="${SWITCHYARD_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/switchyard-infra}/cluster"
TIMEOUT="${SWITCHYARD_INFRA_TIMEOUT:-60}"
RAFT_MULTIPLIER="${CLUSTER_RAFT_MULTIPLIER:-5}"
NODES=(server-1 server-2 server-3 client-1 client-2)
SERVERS=(127.0.0.11 127.0.0.12 127.0.0.13)

say() { echo "[cluster] $*"; }
die() { echo "[cluster] error: $*" >&2; exit 1; }
usage() { sed -n '6,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }

address_of() {
  case $1 in
    server-[1-3]) echo "127.0.0.1${1#server-}" ;;
    client-[1-2]) echo "127.0.0.2${1#client-}" ;;
    *) die "unknown node '$1' (expected: ${NODES[*]})" ;;
  esac
}

alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }

# pid_of <node>: the recorded pid when that process still runs consul.
pid_of() {
  local f="$STATE/$1/pid" pid
  [[ -f $f ]] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [[ -n $pid ]] && alive "$pid" && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == consul ]] && echo "$pid"
}

launch() {
  local node=$1 addr join=()
  addr=$(address_of "$node")
  mkdir -p "$STATE/$node/data"
  for server in "${SERVERS[@]}"; do [[ $server == "$addr" ]] || join+=(-retry-join "$server"); done
  local role=()
  if [[ $node == server-* ]]; then
    role=(-server -bootstrap-expect 3 -ui)
    printf 'performance { raft_multiplier = %d }\n' "$RAFT_MULTIPLIER" >"$STATE/$node/performance.hcl"
    role+=(-config-file "$STATE/$node/performance.hcl")
  fi
  (
    cd "$STATE/$node"
    exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$STATE/$node/pid" "$BIN" agent \
      -node "$node" -datacenter dc1 -data-dir "$STATE/$node/data" \
      -bind "$addr" -advertise "$addr" -client "$addr" "${join[@]}" "${role[@]}" \
      -log-level warn </dev/null >>"$STATE/$node/log" 2>&1
  ) &
}

http() { curl -sf --max-time 2 "http://$(address_of "$1"):8500$2"; }

# leader: the node name of the current leader, as any running server sees it.
leader() {
  local node addr
  for node in server-1 server-2 server-3; do
    pid_of "$node" >/dev/null || continue
    addr=$(http "$node" /v1/status/leader 2>/dev/null | tr -d '"') || continue
    addr=${addr%:*}
    [[ -n $addr ]] || continue
    case $addr in 127.0.0.1[1-3]) echo "server-${addr#127.0.0.1}"; return 0 ;; esac
  done
  return 1
}

# members_alive <node>: how many members <node> sees as alive.
members_alive() { http "$1" /v1/agent/members 2>/dev/null | grep -o '"Status":1' | wc -l; }

wait_until() {
  local what=$1 deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || { tail -n 20 "$STATE"/*/log >&2 || true; die "$what: not within ${TIMEOUT}s"; }
    sleep 0.2
  done
}

start_nodes() {
  local node started=()
  [[ -x $BIN ]] || die "consul not found at $BIN; run 'make tools'"
  for node in "$@"; do
    address_of "$node" >/dev/null
    if pid_of "$node" >/dev/null; then continue; fi
    launch "$node"
    started+=("$node")
  done
  ((${#started[@]} == 0)) || say "starting ${started[*]} (logs: $STATE/<node>/log)"
  for node in "$@"; do wait_until "$node to answer" http "$node" /v1/agent/self >/dev/null; done
  local t0=$SECONDS
  wait_until "a leader" leader >/dev/null
  for node in "$@"; do
    # shellcheck disable=SC2016
    wait_until "$node to see all five members alive" bash -c '(( $(curl -sf --max-time 2 "http://$1:8500/v1/agent/members" | grep -o "\"Status\":1" | wc -l) >= 5 ))' _ "$(address_of "$node")"
  done
  say "up: leader $(leader) (waited $((SECONDS - t0)) s); clients at http://127.0.0.21:8500 and http://127.0.0.22:8500"
}

stop_node() {
  local node=$1 pid deadline
  pid=$(pid_of "$node") || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; fi
    sleep 0.1
  done
  rm -f "$STATE/$node/pid"
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  start)
    (($# > 0)) || set -- "${NODES[@]}"
    start_nodes "$@"
    ;;
  stop)
    for node in client-1 client-2 server-1 server-2 server-3; do stop_node "$node"; done
    # Next start is a fresh cluster: old raft state would make the servers wait for each other.
    rm -rf "$STATE"
    say "stopped"
    ;;
  status)
    rc=0
    for node in "${NODES[@]}"; do
      if pid=$(pid_of "$node"); then
        printf '[cluster] %-9s up   pid %-7s http://%s:8500  sees %s alive\n' "$node" "$pid" "$(address_of "$node")" "$(members_alive "$node")"
      else
        printf '[cluster] %-9s down\n' "$node"
        rc=3
      fi
    done
    if l=$(leader); then say "leader: $l"; else say "no leader"; rc=3; fi
    exit "$rc"
    ;;
  leader) leader ;;
  kill)
    [[ $# -eq 1 ]] || usage
    address_of "$1" >/dev/null
    pid=$(pid_of "$1") || die "$1 is not running"
    kill -KILL "$pid"
    while alive "$pid"; do sleep 0.05; done
    say "killed $1 (pid $pid)"
    ;;
  addr)
    [[ $# -eq 1 ]] || usage
    echo "http://$(address_of "$1"):8500"
    ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
