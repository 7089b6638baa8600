import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { sleep } from '../backoff.js';
import { InFlightResponses } from './in-flight.js';

// Not `import { createServer } from 'node:http'`: an ES import of node:http reads every export,
// and its lazy WebSocket/MessageEvent getters load Node's own bundled undici (~12 MiB of RSS in a
// fresh process) that a service never uses; getBuiltinModule hands over the exports object as
// require() would (as in consul/client.ts; BENCHMARKS.md, "Footprint").
const { createServer } = process.getBuiltinModule('node:http');

/**
 * Listens on `port` (0: ephemeral) and resolves once listening. Keep-alive outlasts the
 * clients' own (4.5 s, client/transport.ts) so the client, not the server, closes idle sockets.
 */
export function listen(handler: RequestListener, port: number, host?: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.keepAliveTimeout = 6_000;
    server.headersTimeout = 7_000;
    server.on('checkContinue', continueWhenRead(server));
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/**
 * `Expect: 100-continue`: Node answers 100 at once by default, so a client starts uploading a body
 * the route may refuse (413, 404, 401). Instead, the 100 goes out only when something starts
 * reading the body; a route that answers first refuses without the upload ever starting.
 */
function continueWhenRead(server: Server) {
  return (req: IncomingMessage, res: ServerResponse) => {
    req.on('newListener', function sendContinue(event: string | symbol) {
      if (event !== 'data' && event !== 'readable') return;
      req.off('newListener', sendContinue);
      if (!res.headersSent) res.writeContinue();
    });
    server.emit('request', req, res);
  };
}

/**
 * Responses still being prepared when shutdown begins. Their callers (ServiceClient's keep-alive
 * pool) would otherwise keep the socket open after the answer, and server.close() would wait for
 * their idle timeout (seconds) before the process can exit; `connection: close` on the answer
 * ends the socket right after it, without racing a request the caller may be sending.
 */
export function trackInFlight(server: Server) {
  const responses = new InFlightResponses();
  server.on('request', (_req, res: ServerResponse) => responses.add(res));
  return {
    closeConnectionsAfterResponse() {
      for (const res of responses.current()) if (!res.headersSent) res.setHeader('connection', 'close');
    },
  };
}

/**
 * Stops accepting connections and waits for in-flight requests, at most `timeoutMs`; then closes
 * whatever is left (a stuck request must not hold the process).
 */
export async function drain(server: Server, timeoutMs: number, logger: Logger): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const cancelTimer = new AbortController();
  const timedOut = await Promise.race([closed.then(() => false), sleep(timeoutMs, cancelTimer.signal).then(() => true)]);
  cancelTimer.abort();
  if (timedOut) {
    logger.warn({ timeoutMs }, 'drain timeout: closing the remaining connections');
    server.closeAllConnections();
    await closed;
  }
}
