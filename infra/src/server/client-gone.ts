import type { ServerResponse } from 'node:http';
import type { Cancellation, CancellationListener } from '../cancellation.js';

/**
 * Fires when the client's connection closes before the answer was ended: the caller timed out or
 * hung up. Work done on its behalf (an upstream call, a queued task) stops instead of running to
 * completion for nobody and then being retried elsewhere.
 *
 * The gateway makes one per proxied request. An AbortController costs an EventTarget, an
 * AbortSignal and a Listener record per subscriber, all validated and tracked by node's
 * EventTarget (~1 % of the gateway's CPU under load, with the garbage); this is one object and
 * one `close` listener, and the listeners it keeps are called in subscription order.
 */
class ClientGone implements Cancellation {
  aborted = false;
  private listeners: CancellationListener[] | undefined;

  constructor(res: ServerResponse) {
    // 'on': a response closes once, and once() would wrap the listener in a bound function.
    res.on('close', () => {
      if (!res.writableEnded) this.abort();
    });
  }

  addEventListener(_type: 'abort', listener: CancellationListener): void {
    if (this.aborted) return;
    (this.listeners ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: CancellationListener): void {
    const at = this.listeners?.indexOf(listener) ?? -1;
    if (at !== -1) this.listeners!.splice(at, 1);
  }

  private abort(): void {
    this.aborted = true;
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) {
      if (typeof listener === 'function') listener();
      else listener.handleEvent();
    }
  }
}

/** A cancellation that fires when the client leaves before its answer was ended. */
export function abortWhenClientLeaves(res: ServerResponse): Cancellation {
  return new ClientGone(res);
}
