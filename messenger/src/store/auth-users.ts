import { publicProfile } from '@switchyard/auth/api';
import { HttpError, UpstreamUnavailable, type ServiceClient, type ServiceResponse } from '@switchyard/infra';
import type { Caller, UserDirectory } from '../domain/users.js';

/**
 * Tight enough that messenger answers the gateway within the gateway's own attempt timeout (2 s)
 * even after a retry on another auth instance.
 */
export const AUTH_CALL_TIMEOUTS = { attemptTimeoutMs: 800, deadlineMs: 1_600 } as const;

/**
 * Users, as auth (which owns them) knows them, read through discovery: any passing auth instance
 * answers `GET /users/:id`, with the caller's own bearer token forwarded (auth authenticates every
 * call itself). auth's refusals come back as they are (its status, code and message); an answer
 * that is not a profile is a 502 naming auth.
 */
export class AuthUsers implements UserDirectory {
  constructor(private readonly auth: ServiceClient) {}

  async exists(userId: string, caller: Caller): Promise<boolean> {
    const answer = await this.auth.get(`/users/${encodeURIComponent(userId)}`, {
      headers: { authorization: caller.credentials },
      ...AUTH_CALL_TIMEOUTS,
    });
    if (answer.status === 404) return false;
    if (answer.status !== 200) throw refusal(this.auth.service, answer);
    const profile = publicProfile.safeParse(json(answer.body));
    if (!profile.success || profile.data.id !== userId) {
      throw new UpstreamUnavailable(this.auth.service, `${this.auth.service} answered a user lookup with an unexpected body`);
    }
    return true;
  }
}

/**
 * auth's non-200 answer as this service's error: its refusals (4xx: a token it rejects) and its
 * "unavailable" answers (503, 504: its database is down) keep auth's status and code, so the
 * client learns what auth said; anything else is a 502.
 */
function refusal(service: string, answer: ServiceResponse): Error {
  const error = (json(answer.body) as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const relayable = (answer.status >= 400 && answer.status < 500) || answer.status === 503 || answer.status === 504;
  if (relayable && typeof error?.code === 'string' && typeof error.message === 'string') {
    return new HttpError(answer.status, error.code, error.message);
  }
  return new UpstreamUnavailable(service, `${service} answered ${answer.status} to a user lookup`);
}

function json(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
