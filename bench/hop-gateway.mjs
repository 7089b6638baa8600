// The gateway of bench/gateway-hop.ts: the gateway's own routes plus one to the bench's 8-byte
// backend (`hopbackend`), taken from BENCH_GATEWAY_TREE: the repository itself (its TypeScript,
// under `node --import tsx`, as `make dev` runs it) or a tree compiled as the image compiles it
// (bench/compiled-tree.ts: plain `node`, no loader, as the container runs it). JavaScript, so the
// compiled run needs no loader of its own.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const tree = process.env.BENCH_GATEWAY_TREE;
if (!tree) throw new Error('BENCH_GATEWAY_TREE is not set (bench/gateway-hop.ts sets it)');
const load = (file) => import(pathToFileURL(join(tree, file)).href);

const { z } = await load('infra/src/index.js');
const { startGateway } = await load('gateway/src/gateway.js');
const { defineRoute, path } = await load('gateway/src/route-table.js');
const { gatewayRoutes } = await load('gateway/src/routes/index.js');
const hopSpec = {
  method: 'GET',
  path: '/bench/hop',
  service: 'hopbackend',
  // Token verification and the per-user limit are part of the hop measured.
  auth: 'user',
  params: z.object({}),
  upstreamPath: () => path`/hop`,
  // Under valgrind (bench/hop-instructions.ts sets BENCH_HOP_UNDER_VALGRIND) the process runs
  // ~25-75× slower, and a collection can outlast 2 s: the counted requests must not time out.
  timeouts: process.env.BENCH_HOP_UNDER_VALGRIND ? { attemptTimeoutMs: 60_000, deadlineMs: 120_000 } : { attemptTimeoutMs: 2_000, deadlineMs: 4_000 },
  docs: { summary: 'bench: the 8-byte backend' },
};
const hop = defineRoute(hopSpec);
// The same hop without the token check and the per-user limit (a variant of the bench weighs them).
const hopPublic = defineRoute({ ...hopSpec, path: '/bench/hop-public', auth: 'public', docs: { summary: 'bench: the 8-byte backend, no token' } });
await startGateway([...gatewayRoutes, hop, hopPublic]);
