/**
 * The processes bench/gateway-hop.ts loads (all but our gateway, which is bench/hop-gateway.mjs):
 * the 8-byte backend, the raw node:http + undici proxies, and express + http-proxy-middleware.
 * `gateway-hop.ts <role>` runs one; `target` is the backend's URL. Also what every hop bench
 * shares: the settings it starts our gateway with, the backend's registration in Consul, the wait
 * until a contender answers.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer, Agent as HttpAgent, type Server } from 'node:http';

const CONSUL = process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500';

/**
 * The backend registered in the real agent as `name` + `suffix` (the gateway finds it through its
 * watcher, like any service); its Consul id, for deregisterAll.
 */
export async function registerBackend(name: string, suffix: string, port: number): Promise<string> {
  const id = `${name}${suffix}-${port}`;
  const response = await fetch(`${CONSUL}/v1/agent/service/register`, {
    method: 'PUT',
    body: JSON.stringify({ ID: id, Name: `${name}${suffix}`, Address: '127.0.0.1', Port: port }),
  });
  if (!response.ok) throw new Error(`Consul refused ${id}: ${response.status}`);
  return id;
}

/** Takes the bench's registrations out of the agent again, whatever else failed. */
export async function deregisterAll(ids: readonly string[]): Promise<void> {
  for (const id of ids) await fetch(`${CONSUL}/v1/agent/service/deregister/${id}`, { method: 'PUT' }).catch(() => {});
}

/** SIGTERM, so a gateway deregisters from Consul and drains as it would in use; SIGKILL after 15 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(timer), resolve()));
    child.kill('SIGTERM');
  });
}

/** Polls `url` until it answers 200: a gateway does once its watcher has found the backend. */
export async function waitAnswering(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const answer = await fetch(url, { headers }).catch(() => undefined);
    if (answer?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never answered 200`);
}

/**
 * Our gateway's settings in every hop bench (gateway-hop, hop-instructions, hop-placement): its
 * services under `suffix`, the rate limits on and shared in Redis but high enough never to refuse
 * (1 M/min is their maximum), the access log on, and OpenTelemetry's parent-based ratio sampler.
 */
export function hopGatewayEnv(suffix: string, sampleRatio = '0.01'): Record<string, string> {
  return {
    SERVICE_NAME_SUFFIX: suffix,
    RATE_LIMIT_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    ACCESS_LOG: 'true',
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: sampleRatio,
  };
}

/** Each role listens on an ephemeral port and prints `LISTENING <port>` (the gateway logs its own line). */
export async function runRole(name: string, target: string): Promise<void> {
  const announce = (server: Server) => server.listen(0, '127.0.0.1', () => console.log(`LISTENING ${(server.address() as { port: number }).port}`));
  if (name === 'backend') {
    // It also stands in for auth: the gateway fetches the key set that verifies the bench's token here.
    const jwks = process.env.BENCH_JWKS ?? '{"keys":[]}';
    const server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        res.setHeader('content-type', 'application/json');
        return void res.end(jwks);
      }
      res.setHeader('content-type', 'application/octet-stream');
      res.setHeader('x-served-by', 'backend');
      res.end('12345678');
    });
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else if (name === 'raw-proxy' || name === 'raw-proxy-headers') {
    // The least a keep-alive hop can do in Node: no routing, no headers rewritten, body streamed.
    // raw-proxy-headers sends what the gateway sends upstream besides (the client's token, the
    // forwarding facts, a request id, trace context in two formats): what those bytes cost the hop.
    const { Pool } = await import('undici');
    const { randomUUID } = await import('node:crypto');
    const pool = new Pool(target, { connections: 64, keepAliveTimeout: 60_000 });
    const gatewayLike = name === 'raw-proxy-headers';
    const server = createServer((req, res) => {
      const peer = req.socket.remoteAddress ?? '';
      const headers: Record<string, string> = gatewayLike
        ? {
            authorization: req.headers.authorization ?? '',
            'x-forwarded-for': peer,
            'x-real-ip': peer,
            'x-forwarded-host': req.headers.host ?? '',
            'x-forwarded-proto': 'http',
            'x-request-id': randomUUID(),
            traceparent: UNSAMPLED_TRACEPARENT,
            'uber-trace-id': UNSAMPLED_UBER_TRACE_ID,
          }
        : { 'x-forwarded-for': peer };
      pool
        .request({ path: req.url!, method: req.method as 'GET', headers })
        .then((answer) => {
          res.writeHead(answer.statusCode, answer.headers as Record<string, string>);
          answer.body.pipe(res);
        })
        .catch(() => res.writeHead(502).end());
    });
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else if (name === 'hpm-default' || name === 'hpm-keepalive' || name === 'hpm-fresh') {
    const { default: express } = await import('express');
    const { createProxyMiddleware } = await import('http-proxy-middleware');
    const app = express();
    // README form: no agent given, so httpxy (http-proxy-middleware 4's proxy) uses its own
    // keep-alive agent. `agent: false` is http-proxy's default, which http-proxy-middleware ≤ 3
    // ran on: a new upstream connection per request, sent with `connection: close`.
    const agent = name === 'hpm-keepalive' ? new HttpAgent({ keepAlive: true, maxSockets: 64 }) : name === 'hpm-fresh' ? false : undefined;
    app.use('/', createProxyMiddleware({ target, changeOrigin: true, ...(agent !== undefined ? { agent } : {}) }));
    const server = createServer(app);
    server.keepAliveTimeout = 60_000;
    announce(server);
  } else throw new Error(`unknown role ${name}`);
}

/** Trace context as the gateway sends it under an unsampled trace (W3C and Jaeger's format). */
const UNSAMPLED_TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00';
const UNSAMPLED_UBER_TRACE_ID = '0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:0';
