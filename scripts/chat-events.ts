/**
 * wscat for the messenger: holds a live connection through the gateway and prints every event as
 * one JSON line on stdout (`ready` names the messenger instance serving it). When the connection
 * ends (an instance scaled down: 1012; one that died: 1006) it prints a `disconnected` line,
 * reconnects through the gateway, so to another instance, and resumes after the last message it
 * printed: nothing missed, nothing twice (the client library: @switchyard/messenger/client).
 *
 *   node --import tsx scripts/chat-events.ts --token <accessToken> [--gateway http://127.0.0.1:8080] [--since <message id>]
 *   ACCESS_TOKEN=<accessToken> node --import tsx scripts/chat-events.ts
 *
 * Ctrl-C closes the connection and exits 0. The token is never printed.
 */
import { parseArgs } from 'node:util';
import { MessengerLiveClient } from '@switchyard/messenger/client';

const USAGE =
  'usage: node --import tsx scripts/chat-events.ts --token <accessToken> [--gateway http://127.0.0.1:8080] [--since <message id>]\n' +
  '       (the token may come from the environment variable ACCESS_TOKEN instead)';

function options(): { token: string; gateway: string; since?: string } | string {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        token: { type: 'string' },
        gateway: { type: 'string', default: process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080' },
        since: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return `${(error as Error).message}\n${USAGE}`;
  }
  if (values.help) return USAGE;
  const token = values.token ?? process.env.ACCESS_TOKEN;
  if (!token) return `no token: give --token or set ACCESS_TOKEN (sign in: POST /api/v1/auth/sign-in)\n${USAGE}`;
  if (!/^https?:\/\/|^wss?:\/\//.test(values.gateway)) return `--gateway must be an http(s):// or ws(s):// URL\n${USAGE}`;
  if (values.since !== undefined && !/^[1-9][0-9]{0,18}$/.test(values.since)) return `--since must be a message id\n${USAGE}`;
  return { token, gateway: values.gateway, since: values.since };
}

const parsed = options();
if (typeof parsed === 'string') {
  console.error(parsed);
  process.exit(parsed === USAGE ? 0 : 2);
}

const client = new MessengerLiveClient({
  gateway: parsed.gateway,
  token: parsed.token,
  since: parsed.since,
  onEvent: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
});
console.error(`[chat-events] connecting to ${new URL('/api/v1/messenger/ws', parsed.gateway.replace(/^ws/, 'http'))} (Ctrl-C to stop)`);

const stop = () => {
  client.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
