#!/usr/bin/env bash
# Container start → registered and passing in Consul, per service, on a running stack (make app):
# restarts one container of each service at a time (a graceful stop, then a start) and reads the
# time from the container's start to its "registered ... in consul" line (runService registers
# as passing once its ready probe passed, so that line is the moment callers can route to it).
#
#   bash scripts/docker/start-bench.sh [rounds]      (default 3; prints the median per service)
#
# Uses the stack of COMPOSE_PROJECT_NAME (default switchyard) on the engine scripts/docker/daemon.sh finds.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${1:-3}
PROJECT=${COMPOSE_PROJECT_NAME:-switchyard}
DOCKER_HOST=$(bash "$HERE/daemon.sh" host)
export DOCKER_HOST

ms() { date -d "$1" +%s%3N; }
printf '%-10s %s\n' service "start → passing (ms), $ROUNDS rounds, median last"
for service in gateway auth social messenger rng hasher worker webui; do
  container=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$service" --format '{{.Names}}' | sort | head -1)
  [[ -n $container ]] || { echo "start-bench: no running $service container in project $PROJECT (make app first)" >&2; exit 1; }
  results=()
  for _ in $(seq "$ROUNDS"); do
    docker restart "$container" >/dev/null
    started=$(docker inspect --format '{{.State.StartedAt}}' "$container")
    line=""
    for _ in $(seq 100); do
      line=$(docker logs --since "$started" "$container" 2>&1 | grep -m1 '"msg":"registered ' || true)
      [[ -n $line ]] && break
      sleep 0.1
    done
    [[ -n $line ]] || { echo "start-bench: $container did not register within 10 s" >&2; exit 1; }
    registered=$(sed -n 's/.*"time":"\([^"]*\)".*/\1/p' <<<"$line")
    results+=($(( $(ms "$registered") - $(ms "$started") )))
  done
  sorted=$(printf '%s\n' "${results[@]}" | sort -n | tr '\n' ' ')
  median=$(printf '%s\n' "${results[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p")
  printf '%-10s %s  median %s\n' "$service" "$sorted" "$median"
done
