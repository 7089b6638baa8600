/**
 * A plain HTTP answer on a connection that asked to upgrade and will not be switched: status,
 * JSON `{error:{code,message}}`, then the connection closes. The gateway relays it as is.
 */
import type { Duplex } from 'node:stream';

// Not an ES import of node:http, which loads Node's bundled undici: see consul/client.ts.
const { STATUS_CODES } = process.getBuiltinModule('node:http');

export function writeRefusal(socket: Duplex, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (socket.destroyed) return;
  const payload = Buffer.from(JSON.stringify(body));
  const all: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(payload.length),
    ...headers,
    connection: 'close',
  };
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
  socket.write(head + '\r\n');
  socket.end(payload, () => socket.destroy());
}
