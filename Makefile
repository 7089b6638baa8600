# switchyard: developer entry points. Every target prints what it runs.
#
#   make setup      npm install (brings the pinned Node 24), make tools, Debian chromium if missing
#   make tools      build/cache the pinned Consul and Jaeger binaries (scripts/tools.sh)
#   make test       npm test: typecheck, then vitest (the integration globalSetup starts the infra)
#   make infra-up   start MariaDB, Redis, Consul, Jaeger (whatever is not already running)
#   make infra-down stop what infra-up started (anything already running is left alone)
#   make migrate    create the database (MYSQL_URL) if missing, apply every service's pending migrations
#   make dev        the whole stack as local processes, after make migrate (scripts/dev.sh)
#   make instance SERVICE=<name>   one more instance of a service next to `make dev`
#   make bench      npm run bench
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := help

SERVICES := gateway auth social messenger rng hasher worker webui

.PHONY: help setup tools test infra-up infra-down migrate dev instance bench

help:
	@sed -n 's/^#   make /  make /p' $(firstword $(MAKEFILE_LIST))

# One recipe line per step: `make -n setup` then executes only the line with $(MAKE) (tools).
setup: START := $(shell date +%s)
setup:
	@echo "==> setup: npm install (workspaces; the node@24 devDependency provides Node 24 to every npm script)"; \
	t=$$(date +%s); npm install; \
	node24=$$(node_modules/.bin/node --version 2>/dev/null || true); \
	case "$$node24" in v24.*) ;; *) \
	  echo "setup: node_modules/.bin/node is '$${node24:-missing}', expected v24 (did npm skip the node package's preinstall script? see 'npm install-scripts ls')" >&2; \
	  exit 1;; \
	esac; \
	echo "==> setup: npm install done in $$(( $$(date +%s) - t ))s (node $$node24)"
	@echo "==> setup: make tools (Consul and Jaeger binaries)"; \
	t=$$(date +%s); $(MAKE) tools; \
	echo "==> setup: tools done in $$(( $$(date +%s) - t ))s"
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
	@echo "==> setup: done in $$(( $$(date +%s) - $(START) ))s"

tools:
	@echo "==> tools: bash scripts/tools.sh"
	@bash scripts/tools.sh

test:
	@echo "==> test: npm test (typecheck, then vitest; the integration globalSetup starts and stops the infrastructure)"
	@npm test

infra-up:
	@echo "==> infra-up: bash scripts/infra.sh start"
	@bash scripts/infra.sh start

infra-down:
	@echo "==> infra-down: bash scripts/infra.sh stop (only what infra.sh started)"
	@bash scripts/infra.sh stop

# Needs a reachable MySQL/MariaDB (make infra-up starts the local one).
migrate:
	@echo "==> migrate: node --import tsx scripts/migrate.ts (database: MYSQL_URL, default mysql://root@127.0.0.1:3306/switchyard)"
	@PATH="$(CURDIR)/node_modules/.bin:$$PATH" node --import tsx scripts/migrate.ts

# dev.sh runs the same migration step once MariaDB is up, before any service starts.
dev:
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
	@echo "==> bench: npm run bench"
	@npm run bench
