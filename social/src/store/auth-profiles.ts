import { profileBatch, profilePage, publicProfile, type PublicProfile, type UserSearchQuery } from '@switchyard/auth/api';
import { HttpError, UpstreamUnavailable, type ServiceClient, type ServiceResponse, type z } from '@switchyard/infra';
import type { Caller, ProfileDirectory, ProfilePage } from '../domain/profiles.js';

/** auth's batch route takes at most this many ids per call. */
const BATCH_SIZE = 100;

/**
 * Tight enough that social answers the gateway within the gateway's own attempt timeout (2 s)
 * even after a retry on another auth instance.
 */
export const AUTH_CALL_TIMEOUTS = { attemptTimeoutMs: 800, deadlineMs: 1_600 } as const;

/**
 * Profiles, read from auth (which owns them) through discovery: any passing auth instance answers,
 * with the caller's own bearer token forwarded (auth authenticates every call itself). auth's
 * refusals come back as they are (its status, code and message), its answers are checked against
 * auth's own answer schemas, and anything else is a 502 naming auth.
 */
export class AuthProfiles implements ProfileDirectory {
  constructor(private readonly auth: ServiceClient) {}

  async profile(id: string, caller: Caller): Promise<PublicProfile | undefined> {
    const answer = await this.get(`/users/${encodeURIComponent(id)}`, caller);
    if (answer.status === 404) return undefined;
    return this.read(answer, publicProfile);
  }

  async profiles(ids: readonly string[], caller: Caller): Promise<PublicProfile[]> {
    const unique = [...new Set(ids)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_SIZE) batches.push(unique.slice(i, i + BATCH_SIZE));
    const answers = await Promise.all(
      batches.map(async (batch) => this.read(await this.get(`/users?ids=${batch.map(encodeURIComponent).join(',')}`, caller), profileBatch)),
    );
    return answers.flatMap((answer) => answer.items);
  }

  async search(query: UserSearchQuery, caller: Caller): Promise<ProfilePage> {
    // Only the validated (trimmed, normalised) parameters are sent, never the raw query string.
    const params = new URLSearchParams();
    if (query.first) params.set('first', query.first);
    if (query.last) params.set('last', query.last);
    if (query.cursor !== undefined) params.set('cursor', query.cursor);
    params.set('limit', String(query.limit));
    return this.read(await this.get(`/users?${params}`, caller), profilePage);
  }

  private get(path: string, caller: Caller): Promise<ServiceResponse> {
    return this.auth.get(path, { headers: { authorization: caller.credentials }, ...AUTH_CALL_TIMEOUTS });
  }

  private read<T>(answer: ServiceResponse, shape: z.ZodType<T>): T {
    if (answer.status !== 200) throw refusal(this.auth.service, answer);
    const parsed = shape.safeParse(json(answer.body));
    if (!parsed.success) throw new UpstreamUnavailable(this.auth.service, `${this.auth.service} answered a profile read with an unexpected body`);
    return parsed.data;
  }
}

/**
 * auth's non-200 answer as this service's error: its refusals (4xx: a bad cursor, a token it
 * rejects) and its "unavailable" answers (503, 504: its database is down) keep auth's status and
 * code, so the client learns what auth said; anything else is a 502.
 */
function refusal(service: string, answer: ServiceResponse): Error {
  const error = (json(answer.body) as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const relayable = (answer.status >= 400 && answer.status < 500) || answer.status === 503 || answer.status === 504;
  if (relayable && typeof error?.code === 'string' && typeof error.message === 'string') {
    return new HttpError(answer.status, error.code, error.message);
  }
  return new UpstreamUnavailable(service, `${service} answered ${answer.status} to a profile read`);
}

function json(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}
