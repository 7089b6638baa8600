import { SocialError, type SocialErrorCode } from './errors.js';

/**
 * The friendship state machine of one pair of users, as pure rules. A pair has no row (none), a
 * pending request made by one of them, or an accepted friendship; the pair is one row whichever
 * side asked. The anchor system accepted requests that were never made, letting anyone into
 * anyone's feed: here only the person who was asked can accept or decline, and only a request
 * that exists.
 */
export type Relation = { status: 'pending' | 'accepted'; requestedBy: string } | undefined;

export type FriendAction = 'request' | 'accept' | 'decline' | 'remove';

/** What to write (the store does it only if the pair is still as read: see Friendships). */
export type Step =
  | { kind: 'create-request' }
  | { kind: 'accept' }
  | { kind: 'delete' }
  | { kind: 'refuse'; error: SocialError };

const refuse = (code: SocialErrorCode, message: string): Step => ({ kind: 'refuse', error: new SocialError(code, message) });

/**
 * The step for `actor` doing `action` toward the other person of a pair in state `relation`.
 *
 * - request: none → a pending request; my own pending request → 409 request_pending; **a request
 *   the other person already made to me is accepted** (both want it: asking back is the natural
 *   way to say yes, and a 409 would only make the client call accept next); friends → 409.
 * - accept / decline: only a request the other person made to me; none, or my own request → 404
 *   request_not_found (and nothing changes); friends → 409 already_friends.
 * - remove: ends a friendship, or withdraws my own pending request; none, or a request made to me
 *   (decline that instead) → 404 not_friends.
 */
export function nextStep(action: FriendAction, actor: string, relation: Relation): Step {
  const askedByMe = relation?.status === 'pending' && relation.requestedBy === actor;
  const askedMe = relation?.status === 'pending' && relation.requestedBy !== actor;
  const friends = relation?.status === 'accepted';

  switch (action) {
    case 'request':
      if (friends) return refuse('already_friends', 'you are already friends');
      if (askedByMe) return refuse('request_pending', 'you already asked; wait for the answer');
      if (askedMe) return { kind: 'accept' };
      return { kind: 'create-request' };
    case 'accept':
    case 'decline':
      if (friends) return refuse('already_friends', 'you are already friends');
      if (askedMe) return action === 'accept' ? { kind: 'accept' } : { kind: 'delete' };
      return refuse('request_not_found', 'this user has not asked you to be friends');
    case 'remove':
      if (friends || askedByMe) return { kind: 'delete' };
      return refuse('not_friends', 'you are not friends with this user and have no pending request to them');
  }
}

/** A pair is stored once, its ids in order, so both directions meet on one primary key. */
export interface Pair {
  low: string;
  high: string;
}

export function pairOf(a: string, b: string): Pair {
  return a < b ? { low: a, high: b } : { low: b, high: a };
}
