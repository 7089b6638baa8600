import { describe, expect, it } from 'vitest';
import { SocialError } from './errors.js';
import { nextStep, pairOf, type FriendAction, type Relation } from './friendship-rules.js';

const ME = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

const none: Relation = undefined;
const askedByMe: Relation = { status: 'pending', requestedBy: ME };
const askedMe: Relation = { status: 'pending', requestedBy: OTHER };
const friends: Relation = { status: 'accepted', requestedBy: OTHER };

/** The step's kind, or the refusal's code. */
const outcome = (action: FriendAction, relation: Relation) => {
  const step = nextStep(action, ME, relation);
  return step.kind === 'refuse' ? step.error.code : step.kind;
};

describe('friendship rules', () => {
  it.each([
    ['request', none, 'create-request'],
    ['request', askedByMe, 'request_pending'],
    ['request', askedMe, 'accept'], // asking back says yes
    ['request', friends, 'already_friends'],
    ['accept', none, 'request_not_found'], // the anchor's bug: accepting what was never asked
    ['accept', askedByMe, 'request_not_found'], // nobody accepts their own request
    ['accept', askedMe, 'accept'],
    ['accept', friends, 'already_friends'],
    ['decline', none, 'request_not_found'],
    ['decline', askedByMe, 'request_not_found'],
    ['decline', askedMe, 'delete'],
    ['decline', friends, 'already_friends'],
    ['remove', none, 'not_friends'],
    ['remove', askedByMe, 'delete'], // withdrawing my request
    ['remove', askedMe, 'not_friends'], // a request to me is declined, not removed
    ['remove', friends, 'delete'],
  ] as const)('%s on %o → %s', (action, relation, expected) => {
    expect(outcome(action, relation)).toBe(expected);
  });

  it('refuses with a SocialError whose message is safe to show', () => {
    const step = nextStep('accept', ME, none);
    expect(step.kind).toBe('refuse');
    if (step.kind === 'refuse') {
      expect(step.error).toBeInstanceOf(SocialError);
      expect(step.error.message).toMatch(/not asked you/);
    }
  });

  it('stores a pair once, whichever side asked', () => {
    expect(pairOf(ME, OTHER)).toEqual(pairOf(OTHER, ME));
    expect(pairOf(OTHER, ME)).toEqual({ low: ME, high: OTHER });
  });
});
