import type { PublicProfile } from '../api.js';
import { decodeUserCursor, encodeUserCursor } from './cursors.js';
import { SocialError } from './errors.js';
import type { CacheErrorReporter, FeedCache } from './feed-cache.js';
import { nextStep, pairOf, type FriendAction, type Pair, type Relation } from './friendship-rules.js';
import { requireProfile, type Caller, type ProfileDirectory } from './profiles.js';

/** The friendships table (store/friendships.ts). Writes are conditional on the state the rules saw. */
export interface FriendshipStore {
  relation(pair: Pair): Promise<Relation>;
  /** false when the pair already has a row (someone wrote it since we read). */
  createRequest(pair: Pair, requestedBy: string, at: number): Promise<boolean>;
  /** Accepts the pending request `requestedBy` made; false when the pair is no longer in that state. */
  accept(pair: Pair, requestedBy: string, at: number): Promise<boolean>;
  /** Deletes the pair's row if it still is `expected`; false otherwise. */
  delete(pair: Pair, expected: NonNullable<Relation>): Promise<boolean>;
  /** My friends with an id after `afterId`, by id. */
  friends(userId: string, afterId: string | undefined, limit: number): Promise<Array<{ userId: string; since: number }>>;
  /** People who asked me and are waiting, with an id after `afterId`, by id. */
  incoming(userId: string, afterId: string | undefined, limit: number): Promise<Array<{ userId: string; at: number }>>;
  /** Every friend's id (the feed's authors). */
  friendIds(userId: string): Promise<string[]>;
}

export type FriendshipOutcome = 'pending' | 'accepted' | 'declined' | 'removed';

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Friend = PublicProfile & { friendsSince: string };
export type IncomingRequest = PublicProfile & { requestedAt: string };

/** Enough for two people acting on one pair at once; more means a real contest (answered 409). */
const ATTEMPTS = 3;

/**
 * Requests, answers and removals, and the lists. Every write is conditional on the state the rules
 * decided on (insert if absent, update or delete if still as read), so two people acting on one
 * pair at once never both win: the loser reads the new state and decides again.
 */
export class Friendships {
  constructor(
    private readonly store: FriendshipStore,
    private readonly users: ProfileDirectory,
    private readonly feeds: Pick<FeedCache, 'invalidate'>,
    private readonly onCacheError: CacheErrorReporter,
    private readonly now: () => number = Date.now,
  ) {}

  /** `caller` does `action` toward `otherId`; throws SocialError when the rules refuse. */
  async act(action: FriendAction, caller: Caller, otherId: string): Promise<FriendshipOutcome> {
    if (otherId === caller.id) throw new SocialError('cannot_befriend_self', 'you cannot be friends with yourself');
    const pair = pairOf(caller.id, otherId);
    let otherExists = false;
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const relation = await this.store.relation(pair);
      const step = nextStep(action, caller.id, relation);
      if (step.kind === 'refuse') throw step.error;
      if (step.kind === 'create-request') {
        // Only a new pair can name a stranger: a pair with a row was made with a real user.
        if (!otherExists) await requireProfile(this.users, otherId, caller);
        otherExists = true;
        if (await this.store.createRequest(pair, caller.id, this.now())) return 'pending';
      } else if (step.kind === 'accept') {
        const requestedBy = relation!.requestedBy;
        if (await this.changingFeeds([caller.id, otherId], () => this.store.accept(pair, requestedBy, this.now()))) return 'accepted';
      } else {
        const expected = relation!;
        // A pending request never fed anyone's feed: only ending a friendship touches the caches.
        const deleted =
          expected.status === 'accepted'
            ? await this.changingFeeds([caller.id, otherId], () => this.store.delete(pair, expected))
            : await this.store.delete(pair, expected);
        if (deleted) return action === 'decline' ? 'declined' : 'removed';
      }
      // The pair changed between our read and our write: decide again on what is there now.
    }
    throw new SocialError('conflict', 'this friendship changed while we were changing it; try again');
  }

  async friends(caller: Caller, cursor: string | undefined, limit: number): Promise<Page<Friend>> {
    const after = cursor === undefined ? undefined : decodeUserCursor('friends', cursor);
    const rows = await this.store.friends(caller.id, after, limit + 1);
    return this.withProfiles('friends', rows, limit, caller, (row, profile) => ({ ...profile, friendsSince: iso(row.since) }));
  }

  async incoming(caller: Caller, cursor: string | undefined, limit: number): Promise<Page<IncomingRequest>> {
    const after = cursor === undefined ? undefined : decodeUserCursor('requests', cursor);
    const rows = await this.store.incoming(caller.id, after, limit + 1);
    return this.withProfiles('requests', rows, limit, caller, (row, profile) => ({ ...profile, requestedAt: iso(row.at) }));
  }

  /**
   * One page of `rows` (fetched with one extra to know whether more follow), with the profiles
   * from auth's batch route. A person auth no longer knows is left out of the items; the cursor
   * still follows the rows, so paging neither stops nor repeats.
   */
  private async withProfiles<Row extends { userId: string }, Item>(
    list: 'friends' | 'requests',
    rows: Row[],
    limit: number,
    caller: Caller,
    item: (row: Row, profile: PublicProfile) => Item,
  ): Promise<Page<Item>> {
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeUserCursor(list, page.at(-1)!.userId) : null;
    const profiles = new Map((await this.users.profiles(page.map((row) => row.userId), caller)).map((p) => [p.id, p]));
    const items = page.flatMap((row) => {
      const profile = profiles.get(row.userId);
      return profile ? [item(row, profile)] : [];
    });
    return { items, nextCursor };
  }

  /**
   * Runs a write that changes who is friends with whom, dropping both people's cached feeds before
   * and after it. Before: if the cache is unreachable the write does not happen (the caller gets a
   * 503 and nothing changed) and any rebuild already under way is told to discard its result.
   * After: a rebuild that read the database between the two cannot keep the old friendship.
   */
  private async changingFeeds(users: string[], write: () => Promise<boolean>): Promise<boolean> {
    await this.feeds.invalidate(users);
    const written = await write();
    if (written) {
      await this.feeds.invalidate(users).catch((error: unknown) => this.onCacheError(error, 'drop the cached feeds after a friendship change'));
    }
    return written;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
