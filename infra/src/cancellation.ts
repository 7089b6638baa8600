/**
 * What cancelling a piece of work needs of a signal: whether it fired, and being told when it
 * does. An AbortSignal is one; so is the cheaper ClientGone the server makes per request (a
 * plain object instead of an AbortController, its EventTarget and a Listener record per
 * subscriber). Functions that only wait on a cancellation take this rather than AbortSignal.
 */
export interface Cancellation {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: CancellationListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancellationListener): void;
}

/** A function, or an object whose handleEvent is called (as EventTarget allows: no closure needed). */
export type CancellationListener = (() => void) | { handleEvent(): void };

/** Resolves when `signal` fires; `stop()` forgets the subscription (call it once the wait is over). */
export function whenCancelled(signal: Cancellation): { fired: Promise<void>; stop: () => void } {
  let listener: (() => void) | undefined;
  const fired = new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    listener = () => resolve();
    signal.addEventListener('abort', listener, { once: true });
  });
  return { fired, stop: () => listener && signal.removeEventListener('abort', listener) };
}
