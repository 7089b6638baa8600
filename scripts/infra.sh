#!/usr/bin/env bash
# Local infrastructure for development and the integration tests.
#
#   scripts/infra.sh start  [component...]   start what is not already answering, wait until it answers
#   scripts/infra.sh stop   [component...]   stop only what this script started
#   scripts/infra.sh status [component...]   print up/down (exit 3 when something is down)
#   scripts/infra.sh pid    <component>      print the pid of a component this script started
#
# Components: mariadb redis consul jaeger (default: all four).
#
# A component that already answers is left alone (and never stopped by `stop`). What this
# script starts is recorded as <state dir>/<component>.pid, holding just the pid. The state
# dir is $SWITCHYARD_STATE_DIR, default ${XDG_RUNTIME_DIR:-/tmp}/switchyard-infra; each
# component's output goes to <state dir>/<component>.log (redis: /var/log/redis/ci.log).
#
# Tests may kill Consul or Jaeger (e.g. `kill $(scripts/infra.sh pid consul)`) to simulate an
# outage and run `scripts/infra.sh start consul` again: a stale pid file is detected and
# replaced, and a process that is still shutting down is waited for.
#
# Consul and Jaeger binaries come from ${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/bin
# (`make tools`). Timeouts: SWITCHYARD_INFRA_TIMEOUT seconds (default 30) for a component to
# answer, and for a process to exit after SIGTERM before it gets SIGKILL.
set -euo pipefail

BIN_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard/bin"
STATE_DIR="${SWITCHYARD_STATE_DIR:-${XDG_RUNTIME_DIR:-/tmp}/switchyard-infra}"
TIMEOUT="${SWITCHYARD_INFRA_TIMEOUT:-30}"
ALL=(mariadb redis consul jaeger)

CONSUL_URL=http://127.0.0.1:8500
JAEGER_URL=http://127.0.0.1:16686
OTLP_URL=http://127.0.0.1:4318

now_ms() { date +%s%3N; }
since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%ds' $(( ms / 1000 )) $(( ms % 1000 / 100 )); }
say() { echo "[infra] $*"; }
die() { echo "[infra] error: $*" >&2; exit 1; }

usage() {
  sed -n '2,9s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

# ---------------------------------------------------------------- probes (0 = answers)
up_mariadb() {
  if command -v mysqladmin >/dev/null; then
    mysqladmin -uroot -h127.0.0.1 -P3306 --connect-timeout=2 ping >/dev/null 2>&1
  else
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
  fi
}
up_redis() { [[ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" == PONG ]]; }
up_consul() {
  local leader
  leader=$(curl -sf --max-time 2 "$CONSUL_URL/v1/status/leader" 2>/dev/null) || return 1
  [[ -n "$leader" && "$leader" != '""' ]]
}
up_jaeger() { curl -sf --max-time 2 -o /dev/null "$JAEGER_URL/api/services"; }

# ---------------------------------------------------------------- pid bookkeeping
pidfile() { echo "$STATE_DIR/$1.pid"; }
logfile() { echo "$STATE_DIR/$1.log"; }

proc_name() {
  case $1 in
    mariadb) echo mariadbd ;;
    redis) echo redis-server ;;
    consul) echo consul ;;
    jaeger) echo jaeger ;;
  esac
}

# alive <pid>: the process exists and is not a zombie (killed daemons may linger as
# zombies when nothing reaps them, and `kill -0` would still succeed).
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat:0:1}" != Z ]]
}

# our_pid <component>: print the recorded pid when that process is still running the
# expected program, else fail. Read-only: stale pid files are removed by start/stop, which
# hold the lock (a launch writes its pid a moment before it execs the binary).
our_pid() {
  local f pid
  f=$(pidfile "$1")
  [[ -f "$f" ]] || return 1
  pid=$(tr -dc 0-9 <"$f")
  [[ -n "$pid" ]] && alive "$pid" \
    && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$(proc_name "$1")" ]] \
    && echo "$pid"
}

# wait_exit <pid> <seconds>: poll until the process is gone; fails on timeout.
wait_exit() {
  local deadline=$(( $(now_ms) + $2 * 1000 ))
  while alive "$1"; do
    (( $(now_ms) < deadline )) || return 1
    sleep 0.1
  done
}

show_log() {
  [[ -s "$1" && -r "$1" ]] || return 0
  echo "[infra] last lines of $1:" >&2
  tail -n 20 "$1" | sed 's/^/    /' >&2
}

# show_logs <component>: the logs that explain a failed start.
show_logs() {
  show_log "$(logfile "$1")"
  case $1 in
    redis) [[ -z "${REDIS_LOG:-}" ]] || show_log "$REDIS_LOG" ;;
    mariadb) # mariadbd writes its errors to log-error (Debian: /var/log/mysql/error.log)
      local f
      f=$(my_print_defaults mysqld 2>/dev/null | sed -n 's/^--log[-_]error=//p' | tail -n 1)
      show_log "${f:-/var/log/mysql/error.log}" ;;
  esac
}

# ---------------------------------------------------------------- launchers
# Each launcher starts the component detached from this shell, with its pid in the pid file
# (the pid file may appear a moment later for self-daemonizing programs). Each closes fd 9,
# the lock, so that a long-running daemon does not hold it.

need_bin() {
  [[ -x "$BIN_DIR/$1" ]] || die "$1: binary not found at $BIN_DIR/$1; run 'make tools' (or 'bash scripts/tools.sh $1') to build it"
}

launch_mariadb() {
  if [[ $EUID -eq 0 ]]; then
    mkdir -p /run/mysqld
    chown mysql:mysql /run/mysqld 2>/dev/null || true
  fi
  start-stop-daemon --start --oknodo --background \
    --make-pidfile --pidfile "$(pidfile mariadb)" --output "$(logfile mariadb)" \
    --exec /usr/sbin/mariadbd </dev/null >>"$(logfile mariadb)" 2>&1 9>&-
}

launch_redis() {
  local dir=/var/lib/redis log=/var/log/redis/ci.log
  mkdir -p "$dir" "${log%/*}" 2>/dev/null || true
  [[ -w "$dir" ]] || dir=$STATE_DIR
  [[ -w "${log%/*}" ]] || log=$(logfile redis)
  REDIS_LOG=$log
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir "$dir" --logfile "$log" --pidfile "$(pidfile redis)" </dev/null >>"$(logfile redis)" 2>&1 9>&-
}

# launch_bin <component> <args...>: run a cached binary in its own session; the inner shell
# records its own pid and then execs the binary, so the pid file holds the binary's pid.
launch_bin() {
  local c=$1
  shift
  need_bin "$c"
  (
    cd "$STATE_DIR"
    exec setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$(pidfile "$c")" "$BIN_DIR/$c" "$@" \
      </dev/null >"$(logfile "$c")" 2>&1 9>&-
  ) &
}

launch_consul() { launch_bin consul agent -dev -client 127.0.0.1 -bind 127.0.0.1 -log-level warn; }
# Jaeger traces itself over OTLP gRPC to its own :4317 receiver; on SIGTERM that receiver stops
# first and the final flush would wait out the exporter's default 10 s timeout. A short export
# timeout (standard OTel SDK variable, Jaeger's process only) makes it exit in about a second.
launch_jaeger() { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT=${OTEL_EXPORTER_OTLP_TRACES_TIMEOUT:-1000} launch_bin jaeger; }

url_of() {
  case $1 in
    consul) echo " — UI $CONSUL_URL/ui" ;;
    jaeger) echo " — UI $JAEGER_URL, OTLP $OTLP_URL" ;;
    mariadb) echo " — 127.0.0.1:3306" ;;
    redis) echo " — 127.0.0.1:6379" ;;
  esac
}

# ---------------------------------------------------------------- start / stop / status
start_one() {
  local c=$1 t0 pid deadline
  t0=$(now_ms)
  if "up_$c"; then
    if pid=$(our_pid "$c"); then
      say "$c: already up (started by infra.sh, pid $pid)$(url_of "$c")"
    else
      say "$c: already up (not started by infra.sh; left alone)$(url_of "$c")"
    fi
    return 0
  fi

  # A process we started that does not answer is starting up or shutting down (e.g. a test
  # just sent it SIGTERM): wait for whichever comes first, then decide.
  if pid=$(our_pid "$c"); then
    say "$c: pid $pid is running but not answering yet; waiting"
    deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while alive "$pid" && ! "up_$c"; do
      (( $(now_ms) < deadline )) || { show_logs "$c"; die "$c: pid $pid still not answering after ${TIMEOUT}s"; }
      sleep 0.2
    done
    if "up_$c"; then
      say "$c: up after $(since "$t0") (started by infra.sh, pid $pid)$(url_of "$c")"
      return 0
    fi
    rm -f "$(pidfile "$c")"
  fi

  # Another mariadbd not started by us may be on its way up or down (e.g. started by the
  # system); give it the same bounded wait instead of starting a second copy.
  # (Only for mariadb: a redis-server on another port is plausible, a second mariadbd is not.)
  if [[ $c == mariadb ]] && pid=$(pgrep -xo "$(proc_name "$c")"); then
    say "$c: pid $pid (not started by infra.sh) exists but does not answer yet; waiting"
    deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
    while alive "$pid" && ! "up_$c"; do
      (( $(now_ms) < deadline )) || die "$c: pid $pid (not started by infra.sh) does not answer after ${TIMEOUT}s"
      sleep 0.2
    done
    if "up_$c"; then
      say "$c: up after $(since "$t0") (not started by infra.sh; left alone)$(url_of "$c")"
      return 0
    fi
  fi

  rm -f "$(pidfile "$c")"
  say "$c: starting"
  REDIS_LOG=
  "launch_$c" || { show_logs "$c"; die "$c: failed to launch"; }
  deadline=$(( $(now_ms) + TIMEOUT * 1000 ))
  until "up_$c"; do
    if (( $(now_ms) >= deadline )); then
      show_logs "$c"
      die "$c: did not answer within ${TIMEOUT}s (pid file $(pidfile "$c"))"
    fi
    # Once the pid file exists, a dead process means the start failed: report it right away.
    # (Only liveness is checked here: the recorded process may not have exec'd the binary yet.)
    pid=$(tr -dc 0-9 2>/dev/null <"$(pidfile "$c")" || true)
    if [[ -n "$pid" ]] && ! alive "$pid"; then
      rm -f "$(pidfile "$c")"
      show_logs "$c"
      die "$c: exited during startup (pid $pid)"
    fi
    sleep 0.2
  done
  pid=$(our_pid "$c") || pid="?"
  say "$c: up in $(since "$t0") (pid $pid)$(url_of "$c")"
}

stop_one() {
  local c=$1 t0 pid
  t0=$(now_ms)
  if ! pid=$(our_pid "$c"); then
    rm -f "$(pidfile "$c")"
    if "up_$c"; then
      say "$c: up but not started by infra.sh; left running"
    else
      say "$c: not running"
    fi
    return 0
  fi
  if [[ $c == redis ]]; then
    redis-cli -h 127.0.0.1 -p 6379 shutdown nosave >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  if ! wait_exit "$pid" "$TIMEOUT"; then
    say "$c: pid $pid still running ${TIMEOUT}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_exit "$pid" 10 || die "$c: pid $pid survived SIGKILL"
  fi
  rm -f "$(pidfile "$c")"
  say "$c: stopped pid $pid in $(since "$t0")"
}

status_one() {
  local c=$1 pid state owner=""
  if "up_$c"; then state=up; else state=down; fi
  if pid=$(our_pid "$c"); then
    owner=" (started by infra.sh, pid $pid)"
  elif [[ $state == up ]]; then
    owner=" (not started by infra.sh)"
  fi
  printf '[infra] %-8s %-4s%s%s\n' "$c" "$state" "$owner" "$([[ $state == up ]] && url_of "$c")"
  [[ $state == up ]]
}

print_urls() {
  say "Consul UI  $CONSUL_URL/ui"
  say "Jaeger UI  $JAEGER_URL"
  say "OTLP HTTP  $OTLP_URL"
}

# components <args...>: validate and default to all four.
COMPONENTS=()
components() {
  COMPONENTS=()
  local c
  [[ $# -gt 0 ]] || set -- "${ALL[@]}"
  for c in "$@"; do
    case $c in
      mariadb | redis | consul | jaeger) COMPONENTS+=("$c") ;;
      *) die "unknown component '$c' (expected: ${ALL[*]})" ;;
    esac
  done
}

# Serialize concurrent invocations (e.g. the test globalSetup and a test restarting Consul).
lock() {
  mkdir -p "$STATE_DIR"
  if command -v flock >/dev/null; then
    exec 9>"$STATE_DIR/.lock"
    flock -w $(( TIMEOUT * 4 )) 9 || die "another scripts/infra.sh holds $STATE_DIR/.lock"
  fi
}

cmd=${1:-}
[[ $# -gt 0 ]] && shift
case $cmd in
  start)
    components "$@"
    lock
    t_all=$(now_ms)
    for c in "${COMPONENTS[@]}"; do start_one "$c"; done
    say "ready in $(since "$t_all") (state: $STATE_DIR)"
    print_urls
    ;;
  stop)
    components "$@"
    lock
    for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop_one "${COMPONENTS[i]}"; done
    ;;
  status)
    components "$@"
    rc=0
    for c in "${COMPONENTS[@]}"; do status_one "$c" || rc=3; done
    print_urls
    exit "$rc"
    ;;
  pid)
    [[ $# -eq 1 ]] || usage
    components "$1"
    our_pid "$1" || die "$1 is not running under infra.sh (no live pid in $(pidfile "$1"))"
    ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
