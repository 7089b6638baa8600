import { z } from '@switchyard/infra';

/**
 * messenger's variables, beyond the platform's (REDIS_URL, MYSQL_URL, ...). The live socket's
 * knobs (heartbeat, buffer bound) are the platform's, shared with every service that holds sockets.
 */
export const messengerConfig = {
  /**
   * Missed messages a resumed socket (`?since=`) replays at most; past it the socket sends
   * `{type:"resync"}` and the client reloads through REST. Bounds the work and memory of one connect.
   */
  MESSENGER_REPLAY_LIMIT: z.coerce.number().int().min(1).max(10_000).default(1000),
};
