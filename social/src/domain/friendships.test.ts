/**
 * The retry logic of Friendships.act: writes are conditional on the state the rules saw, and a
 * write that loses a race makes it read the pair again and decide on what is there now. The
 * store here is an in-memory stand-in for this service's own FriendshipStore interface that lets
 * a test slip "the other person's" write in between a read and a write; the SQL is proven
 * against MariaDB in test/friendships.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { PublicProfile } from '../api.js';
import { SocialError } from './errors.js';
import { pairOf, type Pair, type Relation } from './friendship-rules.js';
import { Friendships, type FriendshipStore } from './friendships.js';
import type { Caller, ProfileDirectory } from './profiles.js';

const ME = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';
const caller: Caller = { id: ME, credentials: 'Bearer test' };

class MemoryStore implements Partial<FriendshipStore> {
  rows = new Map<string, NonNullable<Relation>>();
  /** Runs once, just before the next write: someone else's write landing first. */
  beforeNextWrite?: () => void;

  private race() {
    const race = this.beforeNextWrite;
    this.beforeNextWrite = undefined;
    race?.();
  }
  private key = (pair: Pair) => `${pair.low}|${pair.high}`;

  async relation(pair: Pair) {
    return this.rows.get(this.key(pair));
  }
  async createRequest(pair: Pair, requestedBy: string) {
    this.race();
    if (this.rows.has(this.key(pair))) return false;
    this.rows.set(this.key(pair), { status: 'pending', requestedBy });
    return true;
  }
  async accept(pair: Pair, requestedBy: string) {
    this.race();
    const row = this.rows.get(this.key(pair));
    if (row?.status !== 'pending' || row.requestedBy !== requestedBy) return false;
    this.rows.set(this.key(pair), { status: 'accepted', requestedBy });
    return true;
  }
  async delete(pair: Pair, expected: NonNullable<Relation>) {
    this.race();
    const row = this.rows.get(this.key(pair));
    if (row?.status !== expected.status || row.requestedBy !== expected.requestedBy) return false;
    this.rows.delete(this.key(pair));
    return true;
  }
}

function setup() {
  const store = new MemoryStore();
  const invalidated: string[][] = [];
  const users: ProfileDirectory = {
    profile: async (id) => ({ id }) as PublicProfile,
    profiles: async () => [],
    search: async () => ({ items: [], nextCursor: null }),
  };
  const friendships = new Friendships(
    store as unknown as FriendshipStore,
    users,
    { invalidate: async (ids) => void invalidated.push([...ids]) },
    (error) => {
      throw error;
    },
  );
  return { store, friendships, invalidated, pair: pairOf(ME, OTHER) };
}

describe('Friendships.act under concurrent writes', () => {
  it('two people asking each other at once become friends (the second request accepts the first)', async () => {
    const { store, friendships, pair } = setup();
    store.beforeNextWrite = () => store.rows.set(`${pair.low}|${pair.high}`, { status: 'pending', requestedBy: OTHER });
    expect(await friendships.act('request', caller, OTHER)).toBe('accepted');
    expect(await store.relation(pair)).toEqual({ status: 'accepted', requestedBy: OTHER });
  });

  it('an accept racing the requester withdrawing finds no request: 404 and nothing changes', async () => {
    const { store, friendships, pair, invalidated } = setup();
    store.rows.set(`${pair.low}|${pair.high}`, { status: 'pending', requestedBy: OTHER });
    store.beforeNextWrite = () => store.rows.delete(`${pair.low}|${pair.high}`);
    await expect(friendships.act('accept', caller, OTHER)).rejects.toMatchObject({ code: 'request_not_found' });
    expect(await store.relation(pair)).toBeUndefined();
    // The feeds were dropped before the write that then did not happen: harmless, they rebuild.
    expect(invalidated).toEqual([[ME, OTHER]]);
  });

  it('drops both feeds before and after accepting and after ending a friendship, never for a mere request', async () => {
    const { store, friendships, pair, invalidated } = setup();
    expect(await friendships.act('request', { id: OTHER, credentials: 'x' }, ME)).toBe('pending');
    expect(invalidated).toEqual([]);
    expect(await friendships.act('accept', caller, OTHER)).toBe('accepted');
    expect(invalidated).toEqual([[ME, OTHER], [ME, OTHER]]);
    expect(await friendships.act('remove', caller, OTHER)).toBe('removed');
    expect(invalidated).toHaveLength(4);
    expect(await store.relation(pair)).toBeUndefined();
  });

  it('gives up with a 409 conflict when the pair keeps changing under it', async () => {
    const { store, friendships, pair } = setup();
    const key = `${pair.low}|${pair.high}`;
    let flips = 0;
    const flip = () => {
      flips += 1;
      // The other person keeps asking and withdrawing just before each of our writes.
      if (store.rows.has(key)) store.rows.delete(key);
      else store.rows.set(key, { status: 'pending', requestedBy: OTHER });
      store.beforeNextWrite = flip;
    };
    store.beforeNextWrite = flip;
    const error = await friendships.act('request', caller, OTHER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SocialError);
    expect((error as SocialError).code).toBe('conflict');
    expect(flips).toBe(3);
  });

  it('refuses befriending oneself before touching anything', async () => {
    const { friendships } = setup();
    await expect(friendships.act('request', caller, ME)).rejects.toMatchObject({ code: 'cannot_befriend_self' });
  });
});
