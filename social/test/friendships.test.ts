/**
 * Friendships through the real social process (and auth for users and profiles), on the real
 * MariaDB, Redis and Consul: request, accept, decline, remove, the lists with profiles, and the
 * anchor's hole (accepting a request nobody made) closed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listQuery } from '../src/store/friendships.js';
import { SocialTestStack, type TestUser } from './support/social-stack.js';

describe('social friendships (real processes, MariaDB, Redis, Consul)', () => {
  const s = new SocialTestStack();

  beforeAll(() => s.start(), 90_000);
  afterAll(() => s.teardown());

  const relation = async (a: string, b: string) => {
    const [low, high] = a < b ? [a, b] : [b, a];
    const [rows] = (await s.db().query('SELECT status, requested_by FROM friendships WHERE user_low = ? AND user_high = ?', [low, high])) as any;
    return rows[0] as { status: string; requested_by: string } | undefined;
  };
  const friendIds = async (as: TestUser) => ((await s.api(as, 'GET', '/friends')).body.items as Array<{ id: string }>).map((f) => f.id);

  it('request → pending (listed to the other side with a profile) → accept → friends on both sides', async () => {
    const [ann, ben] = [await s.user('Ann'), await s.user('Ben')];
    const asked = await s.api(ann, 'POST', '/friends/requests', { body: { userId: ben.id } });
    expect(asked.status).toBe(201);
    expect(asked.body).toEqual({ userId: ben.id, status: 'pending' });
    expect(await relation(ann.id, ben.id)).toEqual({ status: 'pending', requested_by: ann.id });

    const incoming = await s.api(ben, 'GET', '/friends/requests');
    expect(incoming.status).toBe(200);
    expect(incoming.body).toEqual({
      items: [expect.objectContaining({ id: ann.id, firstName: 'Ann', lastName: ann.lastName, requestedAt: expect.any(String) })],
      nextCursor: null,
    });
    expect(incoming.body.items[0]).not.toHaveProperty('email');
    // My own request is not an incoming one, and not a friendship yet.
    expect((await s.api(ann, 'GET', '/friends/requests')).body.items).toEqual([]);
    expect(await friendIds(ann)).toEqual([]);

    // Asking again while pending, or accepting my own request, changes nothing.
    expect((await s.api(ann, 'POST', '/friends/requests', { body: { userId: ben.id } })).body.error.code).toBe('request_pending');
    expect((await s.api(ann, 'POST', `/friends/requests/${ben.id}/accept`)).status).toBe(404);

    const accepted = await s.api(ben, 'POST', `/friends/requests/${ann.id}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ userId: ann.id, status: 'accepted' });
    expect(await relation(ann.id, ben.id)).toEqual({ status: 'accepted', requested_by: ann.id });
    expect(await friendIds(ann)).toEqual([ben.id]);
    expect(await friendIds(ben)).toEqual([ann.id]);
    const [friend] = (await s.api(ann, 'GET', '/friends')).body.items;
    expect(friend).toMatchObject({ id: ben.id, firstName: 'Ben', friendsSince: expect.stringMatching(/Z$/) });
    expect((await s.api(ben, 'GET', '/friends/requests')).body.items).toEqual([]);

    const again = await s.api(ben, 'POST', '/friends/requests', { body: { userId: ann.id } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_friends');
  });

  it('accepting or declining a request that was never made → 404, and no friendship appears', async () => {
    const [mallory, victim] = [await s.user('Mallory'), await s.user('Victim')];
    const before = await s.snapshot();
    for (const verdict of ['accept', 'decline']) {
      const answer = await s.api(mallory, 'POST', `/friends/requests/${victim.id}/${verdict}`);
      expect(answer.status, verdict).toBe(404);
      expect(answer.body).toEqual({ error: { code: 'request_not_found', message: expect.any(String) } });
    }
    expect(await relation(mallory.id, victim.id)).toBeUndefined();
    expect(await s.snapshot()).toBe(before);
    expect(await friendIds(mallory)).toEqual([]);
  });

  it('decline → the request is gone (200), and the requester may ask again', async () => {
    const [cat, dan] = [await s.user('Cat'), await s.user('Dan')];
    expect((await s.api(cat, 'POST', '/friends/requests', { body: { userId: dan.id } })).status).toBe(201);
    const declined = await s.api(dan, 'POST', `/friends/requests/${cat.id}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.body).toEqual({ userId: cat.id, status: 'declined' });
    expect(await relation(cat.id, dan.id)).toBeUndefined();
    expect((await s.api(dan, 'POST', `/friends/requests/${cat.id}/decline`)).status).toBe(404);
    expect((await s.api(cat, 'POST', '/friends/requests', { body: { userId: dan.id } })).status).toBe(201);
  });

  it('a request to someone who already asked me accepts theirs (201 accepted)', async () => {
    const [eve, fay] = [await s.user('Eve'), await s.user('Fay')];
    expect((await s.api(eve, 'POST', '/friends/requests', { body: { userId: fay.id } })).status).toBe(201);
    const back = await s.api(fay, 'POST', '/friends/requests', { body: { userId: eve.id.toUpperCase() } });
    expect(back.status).toBe(201);
    expect(back.body).toEqual({ userId: eve.id, status: 'accepted' });
    expect(await relation(eve.id, fay.id)).toEqual({ status: 'accepted', requested_by: eve.id });
  });

  it("remove → 204, gone from both people's lists; removing again → 404; withdrawing my own pending request → 204", async () => {
    const [gus, hal, ida] = [await s.user('Gus'), await s.user('Hal'), await s.user('Ida')];
    await s.api(gus, 'POST', '/friends/requests', { body: { userId: hal.id } });
    await s.api(hal, 'POST', `/friends/requests/${gus.id}/accept`);
    expect(await friendIds(gus)).toEqual([hal.id]);

    expect((await s.api(hal, 'DELETE', `/friends/${gus.id}`)).status).toBe(204);
    expect(await relation(gus.id, hal.id)).toBeUndefined();
    expect(await friendIds(gus)).toEqual([]);
    expect(await friendIds(hal)).toEqual([]);
    const again = await s.api(hal, 'DELETE', `/friends/${gus.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_friends');

    await s.api(gus, 'POST', '/friends/requests', { body: { userId: ida.id } });
    // A request made to me is declined, not removed.
    expect((await s.api(ida, 'DELETE', `/friends/${gus.id}`)).status).toBe(404);
    expect((await s.api(gus, 'DELETE', `/friends/${ida.id}`)).status).toBe(204);
    expect(await relation(gus.id, ida.id)).toBeUndefined();
  });

  it('refuses asking myself (400) and a user auth does not know (404), writing nothing', async () => {
    const jo = await s.user('Jo');
    const before = await s.snapshot();
    const self = await s.api(jo, 'POST', '/friends/requests', { body: { userId: jo.id } });
    expect(self.status).toBe(400);
    expect(self.body.error.code).toBe('cannot_befriend_self');
    const ghost = await s.api(jo, 'POST', '/friends/requests', { body: { userId: '00000000-0000-4000-8000-000000000000' } });
    expect(ghost.status).toBe(404);
    expect(ghost.body.error.code).toBe('user_not_found');
    expect(await s.snapshot()).toBe(before);
  });

  it('pages friends and incoming requests with a cursor: every one exactly once, in id order', async () => {
    const hub = await s.user('Hub');
    const others = await Promise.all(Array.from({ length: 5 }, (_, i) => s.user(`Peer${'abcde'[i]}`)));
    const [askers, friends] = [others.slice(0, 2), others.slice(2)];
    for (const asker of askers) await s.api(asker, 'POST', '/friends/requests', { body: { userId: hub.id } });
    for (const friend of friends) {
      await s.api(hub, 'POST', '/friends/requests', { body: { userId: friend.id } });
      await s.api(friend, 'POST', `/friends/requests/${hub.id}/accept`);
    }
    const walk = async (path: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: any = await s.api(hub, 'GET', `${path}?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      return seen;
    };
    expect(await walk('/friends')).toEqual(friends.map((f) => f.id).sort());
    expect(await walk('/friends/requests')).toEqual(askers.map((a) => a.id).sort());

    // A cursor belongs to its list.
    const friendsCursor = (await s.api(hub, 'GET', '/friends?limit=1')).body.nextCursor;
    const mixed = await s.api(hub, 'GET', `/friends/requests?cursor=${friendsCursor}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.code).toBe('invalid_cursor');
  });

  it('serves the friend lists from the indexes (EXPLAIN of the store\'s own queries): no table scan', async () => {
    const someone = '0b6f3c1e-8f43-4c1a-9d2e-3b7a1f0c9e55';
    for (const list of ['friends', 'incoming'] as const) {
      const { sql, values } = listQuery(list, someone, undefined, 21);
      const [plan] = (await s.db().query(`EXPLAIN ${sql}`, values)) as any;
      const reads = (plan as Array<{ table: string | null; type: string; key: string | null }>).filter((row) => row.table === 'friendships');
      expect(reads.map((row) => row.key), list).toEqual(['PRIMARY', 'friendships_high_low']);
      for (const row of reads) expect(row.type, list).not.toBe('ALL');
    }
  });
});
