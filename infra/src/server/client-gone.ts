import type { ServerResponse } from 'node:http';

/**
 * An AbortSignal that fires when the client's connection closes before the answer was ended: the
 * caller timed out or hung up. Work done on its behalf (an upstream call, a queued task) stops
 * instead of running to completion for nobody and then being retried elsewhere.
 */
export function abortWhenClientLeaves(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  return controller.signal;
}
