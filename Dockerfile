# One image for every switchyard service; the container's command picks the service:
#   node gateway/dist/main.js | auth/dist/main.js | social/dist/main.js | messenger/dist/main.js
#   node miner/dist/{rng,hasher,worker,webui}/main.js | node scripts/migrate.js (the migrator)
# TypeScript is compiled to JavaScript here (tsconfig.build.json); the runtime stage has the
# production dependencies only, no TypeScript loader, and runs as the non-root user `node`.
# PID 1: compose runs it with `init: true` (tini), which passes SIGTERM on to node, so a
# stopped container deregisters from Consul and drains before it exits.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---------------------------------------------------------------- dependencies
# The manifests alone first: the npm ci layers are reused until a package.json or the lock changes.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY infra/package.json infra/
COPY gateway/package.json gateway/
COPY auth/package.json auth/
COPY messenger/package.json messenger/
COPY social/package.json social/
COPY miner/package.json miner/

# --ignore-scripts: the only install scripts are the root devDependency `node` (a second Node
# binary: the image has one), esbuild's (tsx, unused here) and an analytics ping.
FROM manifests AS deps-dev
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn

FROM manifests AS deps-prod
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=warn

# ---------------------------------------------------------------- compile
FROM deps-dev AS build
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/migrate.ts scripts/
COPY scripts/docker/dist-layout.mjs scripts/docker/
COPY infra/src infra/src
COPY gateway/src gateway/src
COPY auth/src auth/src
COPY messenger/src messenger/src
COPY social/src social/src
COPY miner/src miner/src
# node + the compiler's own script: node_modules/.bin/node is the `node` package's placeholder
# (its install script did not run), so nothing may resolve `node` through node_modules/.bin.
RUN node node_modules/typescript/bin/tsc -p tsconfig.build.json \
 && SWITCHYARD_IMAGE_BUILD=1 node scripts/docker/dist-layout.mjs \
 && mkdir -p /out/scripts \
 && cp package.json /out/ \
 && cp scripts/migrate.js /out/scripts/ \
 && for pkg in infra gateway auth messenger social miner; do \
      mkdir -p /out/$pkg && cp -r $pkg/package.json $pkg/dist /out/$pkg/; \
    done

# ---------------------------------------------------------------- runtime
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# BENCHMARKS.md "Footprint" measures the image's run path with these very lines (bench/footprint.ts
# reads every ENV of this stage). In NODE_OPTIONS, not in CMD: compose gives each service its own command.
# --max-semi-space-size=16: V8's young generation may grow to 2 × 32 MiB, and loading the modules at
#   start grows it that far. The start-up collection below shrinks it again, so the cap bounds the
#   young generation under load rather than at idle. A 4 MiB cap (2026-11-27) cost the gateway ~20 %
#   of its CPU per request once nothing else kept its garbage alive (BENCHMARKS.md, "Gateway hop":
#   75 against 59-63 µs per request); 16 MiB is within noise of no cap.
# --expose-gc: for infra/src/runtime/startup-memory.ts alone, which runs one memory-reducing full GC
#   once the instance is registered: what start-up left on the heap goes back at once instead of after
#   minutes of idling (−9 to −17 MiB); a single pause of tens of ms, nothing per request.
ENV NODE_OPTIONS="--max-semi-space-size=16 --expose-gc"
# glibc malloc gives each thread that allocates (V8's compiler and GC workers, libuv's pool) an arena
# of its own, up to 8 per core, each holding freed memory apart: 2 arenas, −1.3 to −1.8 MiB.
ENV MALLOC_ARENA_MAX=2
# glibc raises its mmap threshold to the size of any large block freed (up to 32 MiB), and its trim
# threshold to twice that: after auth's first argon2 hash (19 MiB) every later one comes from an
# arena, which keeps it once freed. A fixed threshold (glibc's own starting value) keeps large blocks
# mmapped and returned on free: auth 10 s after 5 s of sign-ins, 121 → 114 MiB (2 runs each).
ENV MALLOC_MMAP_THRESHOLD_=131072
WORKDIR /app
COPY scripts/docker/healthcheck.sh /usr/local/bin/switchyard-healthcheck
COPY --from=deps-prod /app/node_modules ./node_modules
COPY --from=build /out/ ./
COPY auth/migrations auth/migrations
COPY messenger/migrations messenger/migrations
COPY social/migrations social/migrations
COPY miner/public miner/public
USER node
CMD ["node", "gateway/dist/main.js"]
