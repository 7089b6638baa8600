# switchyard: developer entry points. Every target prints what it runs.
#
#   make setup      npm install (brings the pinned Node 24), make tools, Debian chromium, docker.io and
#                   debootstrap if missing, the Compose CLI (make docker-tools)
#   make tools      build/cache the pinned Consul and Jaeger binaries (scripts/tools.sh)
#   make test       whatever setup is missing, then npm test: typecheck, then vitest (the integration
#                   globalSetup starts the infra; the compose test runs the Docker path below)
#   make infra-up   start MariaDB, Redis, Consul, Jaeger (whatever is not already running)
#   make infra-down stop what infra-up started (anything already running is left alone)
#   make dev        whatever setup is missing (but the Docker tools), then the whole stack as local
#                   processes, after the migrations (scripts/dev.sh)
#   make instance SERVICE=<name>   one more instance of a service next to `make dev`
#   make bench      npm run bench
#   make load ARGS='--route /api/v1/rng/8 --rps 15 --duration 30s'    load the gateway (npm run load; --help)
#   make chaos      the chaos suite (test/chaos: kills, outages, hostile input under load, ~10 min),
#                   then RELIABILITY.md from what it measured
#   make cluster-up / cluster-down / cluster-status   a real Consul cluster on loopback: 3 servers
#                   (127.0.0.11-13) and 2 client agents (http://127.0.0.21:8500, http://127.0.0.22:8500)
#
# Docker Compose (docker-compose.yml; LOCAL_IMAGES=1: a private engine and local stand-in images
# when no Docker or no registry can be had, see scripts/docker/compose.sh):
#   make init       the infrastructure up and healthy: Consul (UI :8500), Jaeger (UI :16686), MySQL, Redis
#   make migrate    with the compose stack up (or LOCAL_IMAGES=1): the one-shot migrator container;
#                   otherwise the local database at MYSQL_URL (MIGRATE=local|compose to choose)
#   make app        build the image, start gateway (:8080), auth, social, 2x messenger, webui (:8000),
#                   worker, hasher, 2x rng, and wait until every one is healthy
#   make scale SERVICE=<name> N=<n>   run n instances of a service (rng, hasher, worker, auth, social, messenger)
#   make ps         the stack's containers          make logs [SERVICE=<name>]   follow the logs
#   make down       stop and remove the containers (the data volumes stay)
#   make clean      make down, and remove the data volumes too (MySQL and Redis data)
#   CONSUL_CLUSTER=1 make init|app|...   Consul as in production: 3 servers, services registering
#                   through client agents (docker-compose.consul-cluster.yml)
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := help

SERVICES := gateway auth social messenger rng hasher worker webui
# Services `make scale` accepts: gateway and webui publish a fixed host port, so one instance each.
SCALABLE := auth social messenger rng hasher worker
COMPOSE := bash scripts/docker/compose.sh
export LOCAL_IMAGES CONSUL_CLUSTER
# make init's services; CONSUL_CLUSTER=1 (docker-compose.consul-cluster.yml) adds 2 servers and 2 client agents.
INIT_SERVICES := consul jaeger mysql redis $(if $(filter 1,$(CONSUL_CLUSTER)),consul-server-2 consul-server-3 consul-client-1 consul-client-2)

.PHONY: help setup setup-if-missing _setup-rest setup-npm setup-chromium docker-tools tools test infra-up infra-down \
	migrate migrate-local migrate-compose dev instance bench load chaos cluster-up cluster-down cluster-status \
	init app scale ps logs down clean

help:
	@awk '/^[^#]/ { exit } NR > 2 { sub(/^# ?/, "  "); print }' $(firstword $(MAKEFILE_LIST))

# `make setup` does every step (npm install always); `make dev` and `make test` do only what is
# missing (SETUP_NPM=if-needed: npm install only when the lock file changed since the last one
# or Node 24 is missing). Each step is one target, and says what it does or why it skips.
setup: START := $(shell date +%s)
setup:
	@$(MAKE) setup-npm SETUP_NPM=always
	@$(MAKE) _setup-rest
	@echo "==> setup: done in $$(( $$(date +%s) - $(START) ))s"

setup-if-missing: START := $(shell date +%s)
setup-if-missing:
	@$(MAKE) setup-npm SETUP_NPM=if-needed
	@$(MAKE) _setup-rest
	@echo "==> setup: everything in place ($$(( $$(date +%s) - $(START) ))s)"

_setup-rest:
	@echo "==> setup: make tools (Consul and Jaeger binaries)"; \
	t=$$(date +%s); $(MAKE) tools; \
	echo "==> setup: tools done in $$(( $$(date +%s) - t ))s"
	@$(MAKE) setup-chromium
	@if [ "$(SETUP_DOCKER)" = no ]; then \
	  echo "==> setup: the Docker tools are not needed here (make setup or make test installs them)"; \
	else \
	  $(MAKE) docker-tools || echo "==> setup: warning: the Docker tools could not be installed (see above): the compose test will be skipped, make init/app need Docker"; \
	fi

SETUP_NPM ?= always
setup-npm:
	@node24=$$(node_modules/.bin/node --version 2>/dev/null || true); \
	if [ "$(SETUP_NPM)" = if-needed ] && [ "$${node24#v24.}" != "$$node24" ] \
	  && [ node_modules/.package-lock.json -nt package-lock.json ]; then \
	  echo "==> setup: npm dependencies up to date (node $$node24; package-lock.json unchanged since the last install)"; \
	  exit 0; \
	fi; \
	echo "==> setup: npm install (workspaces; the node@24 devDependency provides Node 24 to every npm script)"; \
	t=$$(date +%s); npm install; touch node_modules/.package-lock.json; \
	node24=$$(node_modules/.bin/node --version 2>/dev/null || true); \
	case "$$node24" in v24.*) ;; *) \
	  echo "setup: node_modules/.bin/node is '$${node24:-missing}', expected v24 (did npm skip the node package's preinstall script? see 'npm install-scripts ls')" >&2; \
	  exit 1;; \
	esac; \
	echo "==> setup: npm install done in $$(( $$(date +%s) - t ))s (node $$node24)"

setup-chromium:
	@t=$$(date +%s); \
	if [ -x /usr/bin/chromium ]; then \
	  echo "==> setup: chromium already installed at /usr/bin/chromium"; \
	else \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo="sudo -n"; fi; \
	  echo "==> setup: installing Debian's chromium: $${sudo:+$$sudo }apt-get update && apt-get install -y --no-install-recommends chromium"; \
	  $$sudo apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium </dev/null; \
	  echo "==> setup: chromium installed in $$(( $$(date +%s) - t ))s"; \
	fi

# The Docker path's tools (the compose test uses them): Debian's docker.io (engine and CLI) and
# debootstrap (the local stand-in images), and the Compose v2 CLI built from its Go module.
docker-tools:
	@t=$$(date +%s); \
	missing=""; for pkg in docker.io debootstrap; do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then \
	  echo "==> setup: docker.io and debootstrap already installed"; \
	else \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo="sudo -n"; fi; \
	  echo "==> setup: installing Debian's$$missing: $${sudo:+$$sudo }apt-get install -y --no-install-recommends$$missing"; \
	  $$sudo apt-get update -qq; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing </dev/null >/dev/null; \
	  echo "==> setup:$$missing installed in $$(( $$(date +%s) - t ))s"; \
	fi
	@echo "==> setup: bash scripts/docker/compose-cli.sh (the Compose v2 CLI)"; \
	t=$$(date +%s); bash scripts/docker/compose-cli.sh; \
	echo "==> setup: compose CLI done in $$(( $$(date +%s) - t ))s"

tools:
	@echo "==> tools: bash scripts/tools.sh"
	@bash scripts/tools.sh

test: setup-if-missing
	@echo "==> test: npm test (typecheck, then vitest; the integration globalSetup starts and stops the infrastructure)"
	@npm test

infra-up:
	@echo "==> infra-up: bash scripts/infra.sh start"
	@bash scripts/infra.sh start

infra-down:
	@echo "==> infra-down: bash scripts/infra.sh stop (only what infra.sh started)"
	@bash scripts/infra.sh stop

# Two databases can be meant: the compose stack's (after `make init`) or the local one of
# `make dev`. MIGRATE=compose|local says which; unset, the compose stack's when it runs (or with
# LOCAL_IMAGES=1), else the local one.
migrate:
	@if [ "$(MIGRATE)" = local ]; then target=migrate-local; \
	elif [ "$(MIGRATE)" = compose ] || [ "$(LOCAL_IMAGES)" = 1 ]; then target=migrate-compose; \
	elif [ -n "$(MIGRATE)" ]; then echo "make migrate: MIGRATE is '$(MIGRATE)': say compose or local" >&2; exit 2; \
	elif $(COMPOSE) --running mysql; then target=migrate-compose; \
	else \
	  echo "==> migrate: no compose stack is running (make init starts one): migrating the local database"; \
	  target=migrate-local; \
	fi; \
	$(MAKE) $$target

# Needs a reachable MySQL/MariaDB (make infra-up starts the local one).
migrate-local:
	@echo "==> migrate: node --import tsx scripts/migrate.ts (database: MYSQL_URL, default mysql://root@127.0.0.1:3306/switchyard)"
	@PATH="$(CURDIR)/node_modules/.bin:$$PATH" node --import tsx scripts/migrate.ts

# The one-shot migrator container (the app image, built first when needed), then it is removed.
migrate-compose:
	@echo "==> migrate: the one-shot migrator container on the compose stack's MySQL (builds the app image if needed)"
	@$(COMPOSE) run --rm --build migrate

# dev.sh runs the same migration step once MariaDB is up, before any service starts.
# make dev runs local processes: everything but the Docker tools.
dev:
	@$(MAKE) setup-if-missing SETUP_DOCKER=no
	@echo "==> dev: bash scripts/dev.sh (infrastructure, then make migrate's step, then the services)"
	@bash scripts/dev.sh

instance:
	@if [ -z "$(strip $(SERVICE))" ]; then \
	  echo "make instance: SERVICE is not set; usage: make instance SERVICE=<name>, name one of: $(SERVICES)" >&2; \
	  exit 2; \
	fi
	@echo "==> instance: bash scripts/instance.sh $(strip $(SERVICE))"
	@bash scripts/instance.sh $(strip $(SERVICE))

bench:
	@if ! command -v wrk >/dev/null; then \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=; else sudo="sudo -n"; fi; \
	  echo "==> bench: installing Debian's wrk (the gateway-hop benchmark's load generator)"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null \
	    || { $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk </dev/null >/dev/null; } \
	    || echo "==> bench: warning: wrk could not be installed; gateway-hop will fail"; \
	fi
	@echo "==> bench: npm run bench"
	@npm run bench

ARGS ?= --route /api/v1/rng/8 --rps 15 --duration 10s
load:
	@echo "==> load: npm run load -- $(ARGS)"
	@npm run -s load -- $(ARGS)

chaos:
	@$(MAKE) setup-if-missing SETUP_DOCKER=no
	@echo "==> chaos: npm run chaos (vitest --project chaos, then scripts/chaos-report.ts writes RELIABILITY.md)"
	@npm run -s chaos

cluster-up:
	@bash scripts/cluster.sh start
cluster-down:
	@bash scripts/cluster.sh stop
cluster-status:
	@bash scripts/cluster.sh status

# ---------------------------------------------------------------- Docker Compose
init:
	@echo "==> init: the infrastructure ($(INIT_SERVICES)) up, waiting until each is healthy"
	@$(COMPOSE) up -d --wait $(INIT_SERVICES)
	@echo "==> init: Consul UI http://127.0.0.1:$${CONSUL_UI_PORT:-8500}/ui   Jaeger UI http://127.0.0.1:$${JAEGER_UI_PORT:-16686}/   next: make migrate"

app:
	@echo "==> app: build the image, run the migrator again (idempotent), start every service, wait until all are healthy"
	@$(COMPOSE) up -d --build --wait
	@echo "==> app: gateway http://127.0.0.1:$${GATEWAY_PORT:-8080}/api/docs   webui http://127.0.0.1:$${WEBUI_PORT:-8000}/   Consul UI http://127.0.0.1:$${CONSUL_UI_PORT:-8500}/ui"

scale:
	@if [ -z "$(strip $(SERVICE))" ] || ! [[ "$(strip $(N))" =~ ^[0-9]+$$ ]]; then \
	  echo "make scale: usage: make scale SERVICE=<name> N=<instances>, name one of: $(SCALABLE)" >&2; exit 2; \
	fi
	@if ! [[ " $(SCALABLE) " == *" $(strip $(SERVICE)) "* ]]; then \
	  echo "make scale: '$(strip $(SERVICE))' cannot be scaled: gateway and webui publish a fixed host port; name one of: $(SCALABLE)" >&2; exit 2; \
	fi
	@echo "==> scale: $(strip $(SERVICE)) to $(strip $(N)) instances (the others keep running), waiting until all are healthy"
	@$(COMPOSE) up -d --no-deps --no-recreate --wait --scale $(strip $(SERVICE))=$(strip $(N)) $(strip $(SERVICE))

ps:
	@echo "==> ps: the stack's containers"
	@$(COMPOSE) ps

logs:
	@echo "==> logs: following $(if $(strip $(SERVICE)),$(strip $(SERVICE)),every service) (Ctrl-C stops following)"
	@$(COMPOSE) logs -f --tail=100 $(strip $(SERVICE))

down:
	@echo "==> down: stop and remove the containers (each service deregisters from Consul first); the data volumes stay"
	@$(COMPOSE) down --remove-orphans

clean:
	@echo "==> clean: stop and remove the containers AND the data volumes (MySQL and Redis data are deleted)"
	@$(COMPOSE) down --volumes --remove-orphans
