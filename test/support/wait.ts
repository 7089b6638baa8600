/**
 * Thrown by a `waitFor` probe when the condition can no longer come true (the process it waits
 * on has exited, say): the wait fails at once with this message instead of at its timeout.
 */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
}

/**
 * Polls `probe` until it returns a value that is not undefined/false, or fails after `timeoutMs`
 * with `what` in the message. Tests wait on conditions, never on fixed sleeps. A probe that throws
 * is tried again (the last error is quoted on timeout), unless it throws StopWaiting.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 25 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      if (error instanceof StopWaiting) throw new StopWaiting(`gave up waiting for ${what}: ${error.message}`);
      lastError = error;
    }
    if (Date.now() > deadline) {
      const suffix = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

let counter = 0;
/** A service name no other test uses, so tests never see each other's instances in Consul. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}
