import type { MessengerLiveEvent } from '../api.js';

/**
 * Where committed changes are announced: the platform's cross-instance event bus (ctx.events(),
 * Redis pub/sub), whose subscribers are the WebSockets of every messenger instance. The domain
 * only publishes; it never waits for anyone to receive.
 */
export interface LiveEvents {
  publish(topic: string, event: object): Promise<void>;
}

/** Every event for one user goes to one topic: a socket subscribes to its user's topic only. */
export const userTopic = (userId: string): string => `user:${userId}`;

/** Reports a publish that failed after the change was committed (the change stands). */
export type PublishErrorReporter = (error: unknown, topic: string) => void;

/**
 * Announces an event to each of `userIds`. Called after the commit, so a failure here must not
 * fail the request (the client would retry a change that is already stored): it is reported and
 * swallowed. A client that missed the event gets it back from the database when it resumes
 * (`?since=` on its next connection). Bounded in time: a Redis that does not answer delays the
 * answer by at most `timeoutMs`.
 */
export async function announce(
  events: LiveEvents,
  userIds: readonly string[],
  event: MessengerLiveEvent,
  onError: PublishErrorReporter,
  timeoutMs = 500,
): Promise<void> {
  const publishes = Promise.all(
    userIds.map((userId) => {
      const topic = userTopic(userId);
      return events.publish(topic, event).catch((error: unknown) => onError(error, topic));
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      onError(new Error(`publish did not finish within ${timeoutMs} ms`), userIds.map(userTopic).join(','));
      resolve();
    }, timeoutMs);
  });
  await Promise.race([publishes, timeout]);
  clearTimeout(timer);
}
