/**
 * The social service's HTTP contract: request schemas (zod) and answer shapes. One source of
 * truth: the service validates with these, the gateway imports them (`@switchyard/social/api`) to
 * refuse bad input at the edge and to generate the OpenAPI document. Importing this module starts
 * nothing.
 *
 * Like auth's, the schemas never `.transform()` a value (the gateway forwards the original bytes,
 * and OpenAPI generation needs plain types); the service derives what it needs (lower-cased ids,
 * decoded cursors) after validation.
 *
 * Profiles are auth's: the profile shapes and the name-search query are auth's own schemas,
 * re-exported, because social relays those calls to auth unchanged.
 */
import { profilePage, publicProfile, userSearchQuery } from '@switchyard/auth/api';
import { z } from '@switchyard/infra';

export { profilePage, publicProfile, userSearchQuery };
export type { PublicProfile, UserSearchQuery } from '@switchyard/auth/api';

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;
/** Counted in characters (Unicode code points), not UTF-16 units: an emoji is one character. */
export const POST_MAX_CHARACTERS = 500;

// ---- path parameters ---------------------------------------------------------------------------

/** GET /users/:id */
export const userIdParams = z.strictObject({ id: z.uuid() });

/** /friends/requests/:userId/accept|decline, DELETE /friends/:userId */
export const otherUserParams = z.strictObject({ userId: z.uuid() });

/** 2^63 - 1: no counter gets that far, and the bound keeps every valid id at most 19 digits. */
const MAX_POST_ID = '9223372036854775807';

/**
 * Within the bound, compared as text (equal lengths of digits order as numbers). Zod runs this
 * refinement even when the regex failed, so it must cope with any string, never throw.
 */
const withinBigint = (value: string) => !/^[0-9]{19}$/.test(value) || value <= MAX_POST_ID;

/** A post id: a positive decimal integer, sent as a string (JSON numbers lose precision past 2^53). */
export const postId = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, { message: 'must be a post id (a positive integer)' })
  .refine(withinBigint, { message: 'is not a post id (too large)' });

/** DELETE /posts/:id */
export const postIdParams = z.strictObject({ id: postId });

// ---- queries -----------------------------------------------------------------------------------

/** An opaque cursor from a previous page's `nextCursor`; one this service did not make → 400 invalid_cursor. */
export const cursor = z.string().min(1).max(200);

export const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT);

/** GET /friends, GET /friends/requests, GET /feed: `?cursor=&limit=`, nothing else (not even a user id). */
export const pageQuery = z.strictObject({ cursor: cursor.optional(), limit });
export type PageQuery = z.infer<typeof pageQuery>;

/** GET /ws (the live feed socket): browsers cannot set headers on a WebSocket, so the token may come here. */
export const liveFeedQuery = z.strictObject({
  access_token: z.string().max(4096).optional().describe('The access token, for clients that cannot send an Authorization header (browsers)'),
});

// ---- bodies ------------------------------------------------------------------------------------

/** POST /friends/requests */
export const friendRequestBody = z.strictObject({ userId: z.uuid() });

// A lone UTF-16 surrogate is not text (MySQL's utf8mb4 would refuse it with an error, not a 400);
// control characters other than tab and line breaks have no place in a post.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** Characters as people count them (code points), the way VARCHAR(500) in utf8mb4 counts them too. */
export const characterCount = (text: string): number => {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
};

export const postText = z
  .string()
  // A cheap bound first: 500 characters are at most 1000 UTF-16 units (each at most a surrogate pair).
  .max(POST_MAX_CHARACTERS * 2, { message: `must be at most ${POST_MAX_CHARACTERS} characters` })
  .refine((text) => text.trim() !== '', { message: 'must not be blank' })
  .refine((text) => characterCount(text) <= POST_MAX_CHARACTERS, { message: `must be at most ${POST_MAX_CHARACTERS} characters` })
  .refine((text) => !LONE_SURROGATE.test(text), { message: 'must be valid text (no lone surrogates)' })
  .refine((text) => !CONTROL_CHARACTERS.test(text), { message: 'must not contain control characters (tab and line breaks are fine)' })
  .describe(`Not blank, at most ${POST_MAX_CHARACTERS} characters (Unicode code points: an emoji counts as one)`);

/** POST /posts */
export const createPostBody = z.strictObject({ text: postText });
export type CreatePostBody = z.infer<typeof createPostBody>;

// ---- answers -----------------------------------------------------------------------------------

/** POST /posts → 201, and the items of GET /feed. */
export const post = z.object({
  id: z.string().regex(/^[0-9]+$/),
  authorId: z.uuid(),
  text: z.string(),
  createdAt: z.iso.datetime(),
});
export type Post = z.infer<typeof post>;

export const postPage = z.object({ items: z.array(post), nextCursor: z.string().nullable() });

/**
 * POST /friends/requests → 201 and POST /friends/requests/:userId/accept|decline → 200. A request
 * to someone who already asked me accepts theirs: the answer then says `accepted`.
 */
export const friendshipAnswer = z.object({
  userId: z.uuid(),
  status: z.enum(['pending', 'accepted', 'declined']),
});
export type FriendshipAnswer = z.infer<typeof friendshipAnswer>;

/** An item of GET /friends: the friend's public profile and since when we are friends. */
export const friend = publicProfile.extend({ friendsSince: z.iso.datetime() });
export const friendPage = z.object({ items: z.array(friend), nextCursor: z.string().nullable() });

/** An item of GET /friends/requests: who asked me (public profile) and when. */
export const incomingRequest = publicProfile.extend({ requestedAt: z.iso.datetime() });
export const incomingRequestPage = z.object({ items: z.array(incomingRequest), nextCursor: z.string().nullable() });
