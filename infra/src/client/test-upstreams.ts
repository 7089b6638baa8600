/**
 * Real HTTP servers on 127.0.0.1 standing in for instances of a service, for the ServiceClient's
 * unit tests (with a FixedInstancer: no registry needed). Not a test file itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FixedInstancer } from '../sd/instancer.js';
import type { Instance } from '../sd/instance.js';
import { ServiceClient, type ServiceClientOptions } from './service-client.js';

export interface TestUpstream {
  instance: Instance;
  server: Server;
  /** Requests received so far. */
  calls: number;
  /** Requests being served right now, and the most seen at once. */
  inFlight: number;
  maxInFlight: number;
}

let serial = 0;
const opened: Server[] = [];
const clients: ServiceClient[] = [];
const sockets = new Set<Socket>();

export function instanceAt(port: number, service = 'test'): Instance {
  serial += 1;
  return { id: `${service}-127.0.0.1-${port}-${serial}`, service, address: '127.0.0.1', port, tags: [], meta: {} };
}

/** A server answering with `handler`, counting the requests it receives. */
export async function startUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestUpstream> {
  const server = createServer();
  const upstream: TestUpstream = { instance: instanceAt(0), server, calls: 0, inFlight: 0, maxInFlight: 0 };
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    upstream.calls += 1;
    upstream.inFlight += 1;
    upstream.maxInFlight = Math.max(upstream.maxInFlight, upstream.inFlight);
    res.once('close', () => (upstream.inFlight -= 1));
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  opened.push(server);
  upstream.instance = instanceAt((server.address() as AddressInfo).port);
  return upstream;
}

/** An instance whose port refuses connections (it listened once, so nothing else took it since, probably). */
export async function refusingInstance(): Promise<Instance> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return instanceAt(port);
}

/** Answers `status` with a small JSON body naming it. */
export function answer(status: number, headers: Record<string, string> = {}) {
  return (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ status }));
  };
}

/** An answer that never ends (1 KiB every 5 ms); `closed()` tells whether the caller cut it. */
export async function endlessUpstream(): Promise<{ upstream: TestUpstream; closed: () => boolean }> {
  let closed = false;
  const upstream = await startUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const timer = setInterval(() => res.write(Buffer.alloc(1024)), 5);
    res.once('close', () => {
      clearInterval(timer);
      closed = true;
    });
  });
  return { upstream, closed: () => closed };
}

/** Reads the request body, then cuts the connection without answering: the request was delivered. */
export function cutAfterReading(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  req.once('end', () => res.destroy());
}

/** A client of `service` over these instances (closed by closeUpstreams). */
export function testClient(service: string, instances: Array<TestUpstream | Instance>, options: ServiceClientOptions = {}): ServiceClient {
  const list = instances.map((i) => ('instance' in i ? i.instance : i));
  const client = new ServiceClient(service, new FixedInstancer(service, list), options);
  clients.push(client);
  return client;
}

/**
 * Cuts every connection of the servers started here, then closes every client made by testClient
 * and the servers. Cut first: a client's close waits for its calls in flight, and a test that
 * failed midway (a relay left paused) would otherwise hang here and hide its own failure.
 */
export async function closeUpstreams(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(opened.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
}
