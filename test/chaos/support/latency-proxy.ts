/**
 * A latency fault in front of one instance, as Toxiproxy's latency toxic adds one: an HTTP proxy
 * registered in Consul as an instance of the service, forwarding to a real process (started
 * under another Consul name, so callers reach it only through the proxy). Its answers can be
 * delayed at will and the delay lifted again, on the same instance id; its health endpoint is
 * never delayed, so Consul keeps it passing (a gray failure: healthy to its check, slow to its
 * callers, which only the callers' breakers can see).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONSUL } from '../../support/consul.js';
import type { Running } from '../../support/isolated-stack.js';

export class LatencyProxy {
  /** Added before every forwarded request but /health/*. */
  delayMs = 0;
  readonly serviceId: string;
  private server!: Server;
  private port = 0;

  /** `name`: the Consul name callers discover (the stack's, e.g. `rng-t-…`). */
  constructor(
    private readonly target: Running,
    private readonly name: string,
  ) {
    this.serviceId = `${name}-latency-proxy-${target.port}`;
  }

  /** Listens, registers in Consul (passing from the start) and resolves once registered. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.forward(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    await consul('PUT', '/v1/agent/service/register', {
      ID: this.serviceId,
      Name: this.name,
      Address: '127.0.0.1',
      Port: this.port,
      Check: {
        HTTP: `http://127.0.0.1:${this.port}/health/ready`,
        Interval: '2s',
        Timeout: '1s',
        Status: 'passing',
        DeregisterCriticalServiceAfter: '1m',
      },
    });
    return this;
  }

  /** Deregisters and closes (never throws: cleanup). */
  async stop(): Promise<void> {
    await consul('PUT', `/v1/agent/service/deregister/${encodeURIComponent(this.serviceId)}`).catch(() => undefined);
    this.server?.closeAllConnections();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const delay = req.url?.startsWith('/health') ? 0 : this.delayMs;
    if (delay > 0) {
      // A caller that gave up (its attempt timeout) is not forwarded at all.
      const gone = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), delay);
        res.once('close', () => (clearTimeout(timer), resolve(true)));
      });
      if (gone) return;
    }
    const upstream = request(
      { host: '127.0.0.1', port: this.target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.once('close', () => upstream.destroy());
    req.pipe(upstream);
  }
}

async function consul(method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${CONSUL}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) throw new Error(`consul ${method} ${path} answered ${response.status}: ${await response.text()}`);
}
