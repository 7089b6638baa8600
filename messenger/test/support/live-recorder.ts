/**
 * A MessengerLiveClient (the library under test: reconnect, resume, dedupe) that records what it
 * delivers, for the live-delivery tests: the messages in order, the instances it was served by,
 * the disconnects. Short backoff and heartbeat so the tests' waits stay short.
 */
import { MessengerLiveClient, type LiveClientEvent } from '@switchyard/messenger/client';
import { waitFor } from '../../../test/support/wait.js';

export class LiveRecorder {
  readonly client: MessengerLiveClient;
  readonly events: LiveClientEvent[] = [];
  /** servedBy of each connection, in order. */
  readonly servedBy: string[] = [];
  readonly disconnects: Array<{ code: number; reason: string }> = [];

  constructor(gatewayUrl: string, token: string, options: { heartbeatMs?: number; since?: string } = {}) {
    this.client = new MessengerLiveClient({
      gateway: gatewayUrl,
      token,
      since: options.since,
      heartbeatMs: options.heartbeatMs ?? 2_000,
      backoff: { initialMs: 100, maxMs: 1_000 },
      onEvent: (event) => {
        this.events.push(event);
        if (event.type === 'ready') this.servedBy.push(event.servedBy);
        if (event.type === 'disconnected') this.disconnects.push({ code: event.code, reason: event.reason });
      },
    });
  }

  /** Waits for the current connection's ready event; its servedBy. */
  ready(timeoutMs = 15_000): Promise<string> {
    return waitFor('a ready live connection', () => this.client.servedBy, { timeoutMs });
  }

  /** Message ids delivered, in order. */
  messageIds(): string[] {
    return this.events.flatMap((event) => (event.type === 'message' ? [event.message.id] : []));
  }

  /** Waits until every id of `ids` was delivered. */
  async hasAll(ids: readonly string[], timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `${ids.length} messages on a live socket`,
      () => {
        const got = new Set(this.messageIds());
        return ids.every((id) => got.has(id));
      },
      { timeoutMs },
    );
  }

  close(): void {
    this.client.close();
  }
}
