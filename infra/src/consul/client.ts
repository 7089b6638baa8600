import { readFileSync } from 'node:fs';
import Consul from 'consul';
import { ConfigError, type BaseConfig } from '../config.js';

// Not `import … from 'node:http'`: an ES import of node:http reads every export of the module,
// and its lazy WebSocket/MessageEvent getters load Node's own bundled undici (~12 MiB of RSS in a
// fresh process) that a service never uses. getBuiltinModule hands over the exports object as
// require() would (BENCHMARKS.md, "Footprint").
const { Agent: HttpAgent } = process.getBuiltinModule('node:http');
const { Agent: HttpsAgent } = process.getBuiltinModule('node:https');

/** How to reach the Consul agent: Consul's own CONSUL_HTTP_* variables, as parsed by config.ts. */
export interface ConsulConnection {
  /** `http(s)://host:port`, or a bare `host:port`. */
  addr: string;
  /** ACL token sent as X-Consul-Token on every call (registration, health queries, heartbeat). */
  token?: string;
  /** PEM file of the CA that signed the agent's certificate (HTTPS only). */
  caFile?: string;
  /** HTTPS even when `addr` says http:// or has no scheme (Consul's CLI: never revert to http). */
  ssl?: boolean;
  /** False: accept any certificate. Default true. */
  verifyTls?: boolean;
}

/** The connection described by a service's config (CONSUL_HTTP_ADDR, _TOKEN, _SSL, _SSL_VERIFY, CONSUL_CACERT). */
export function consulConnection(
  config: Pick<BaseConfig, 'CONSUL_HTTP_ADDR' | 'CONSUL_HTTP_TOKEN' | 'CONSUL_CACERT' | 'CONSUL_HTTP_SSL' | 'CONSUL_HTTP_SSL_VERIFY'>,
): ConsulConnection {
  return {
    addr: config.CONSUL_HTTP_ADDR,
    token: config.CONSUL_HTTP_TOKEN,
    caFile: config.CONSUL_CACERT,
    ssl: config.CONSUL_HTTP_SSL,
    verifyTls: config.CONSUL_HTTP_SSL_VERIFY,
  };
}

/** What `/v1/agent/service/<id>` answers, as far as the registrar reads it. */
export interface AgentService {
  ID: string;
  Service: string;
  Port: number;
  Address?: string;
}

/** papi's request surface, which the `consul` package builds on (its `_get` is papi's API for subclasses). */
interface PapiRequester {
  _get(request: object, ...middleware: Array<(request: PapiRequest, next: PapiNext) => void>): Promise<unknown>;
}
interface PapiRequest {
  err?: Error;
  res?: { body?: unknown };
}
type PapiNext = (err: false, error?: Error, value?: unknown) => void;

/**
 * The `consul` npm client, plus what it lacks: whether a token is configured (to explain ACL
 * answers) and a read of one agent service by id.
 */
export class ConsulClient extends Consul {
  constructor(
    options: ConstructorParameters<typeof Consul>[0],
    /** `http(s)://host:port`, for messages. */
    readonly address: string,
    private readonly token: string | undefined,
  ) {
    super(options);
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /**
   * The agent's own entry for service `id` (`GET /v1/agent/service/<id>`), or undefined when the
   * agent does not know it (404). One small answer, where `agent.service.list` returns every
   * service of the agent.
   */
  async agentService(id: string, timeoutMs = 1_000): Promise<AgentService | undefined> {
    const requester = this as unknown as PapiRequester;
    try {
      return (await requester._get(
        {
          name: 'agent.service.get',
          path: '/agent/service/{id}',
          params: { id },
          headers: this.token === undefined ? {} : { 'x-consul-token': this.token },
          timeout: timeoutMs,
        },
        (request, next) => (request.err ? next(false, request.err) : next(false, undefined, request.res?.body)),
      )) as AgentService;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}

/** A Consul client for the agent `connection` describes; the token goes with every call. */
export function createConsulClient(connection: ConsulConnection): ConsulClient {
  const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(connection.addr) ? connection.addr : `http://${connection.addr}`);
  const secure = connection.ssl === true || url.protocol === 'https:';
  const ca = connection.caFile === undefined ? undefined : readCaFile(connection.caFile);
  // An agent of our own: keep-alive (as the package's default agent) plus the TLS trust settings.
  const agent = secure
    ? new HttpsAgent({ keepAlive: true, ca, rejectUnauthorized: connection.verifyTls ?? true })
    : new HttpAgent({ keepAlive: true });
  const port = Number(url.port || (secure ? 443 : 80));
  return new ConsulClient(
    {
      host: url.hostname,
      port,
      secure,
      agent,
      ...(connection.token === undefined ? {} : { defaults: { token: connection.token } }),
    },
    `${secure ? 'https' : 'http'}://${url.hostname}:${port}`,
    connection.token,
  );
}

function readCaFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`invalid configuration: CONSUL_CACERT: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}
