/**
 * The messenger service's HTTP contract: request schemas (zod) and answer shapes. One source of
 * truth: the service validates with these, the gateway imports them (`@switchyard/messenger/api`)
 * to refuse bad input at the edge and to generate the OpenAPI document. Importing this module
 * starts nothing.
 *
 * As in auth's and social's, no schema `.transform()`s a value (the gateway forwards the original
 * bytes, and OpenAPI generation needs plain types); the service derives what it needs (lower-cased
 * ids, decoded cursors) after validation.
 */
import { z } from '@switchyard/infra';

export const PAGE_LIMIT_DEFAULT = 20;
export const PAGE_LIMIT_MAX = 100;
/** Counted in characters (Unicode code points), not UTF-16 units: an emoji is one character. */
export const MESSAGE_MAX_CHARACTERS = 4000;
export const CLIENT_MESSAGE_ID_MAX = 64;
/**
 * Largest JSON body of a send, in kB: 4000 characters are at most 16 kB of UTF-8, but 48 kB from
 * a client that escapes every non-ASCII character (`\ud83d\ude00` per emoji, as Python's
 * json.dumps does by default). The service and the gateway both take this much.
 */
export const SEND_MESSAGE_BODY_LIMIT_KB = 64;

// ---- ids ---------------------------------------------------------------------------------------

/** 2^63 - 1: no counter gets that far, and the bound keeps every valid id at most 19 digits. */
const MAX_BIGINT = '9223372036854775807';

/**
 * Within the bound, compared as text (equal lengths of digits order as numbers). Zod runs this
 * refinement even when the regex failed, so it must cope with any string, never throw.
 */
const withinBigint = (value: string) => !/^[0-9]{19}$/.test(value) || value <= MAX_BIGINT;

/**
 * A positive decimal integer within BIGINT, sent as a string (JSON numbers lose precision past
 * 2^53): chat ids and message ids. Message ids grow with time (auto-increment).
 */
const decimalId = (what: string) =>
  z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/, { message: `must be a ${what} id (a positive integer)` })
    .refine(withinBigint, { message: `is not a ${what} id (too large)` });

export const chatId = decimalId('chat');
export const messageId = decimalId('message');

/** /chats/:id/... */
export const chatIdParams = z.strictObject({ id: chatId });

/**
 * The sender's idempotency key of a message: any token of letters, digits and `.:_-` (a uuid is
 * typical). The same key from the same author stores one message, whatever instance the retry
 * reaches.
 */
export const clientMessageId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]+$/, { message: 'must be letters, digits, ".", ":", "_" or "-" (a uuid, say)' })
  .max(CLIENT_MESSAGE_ID_MAX, { message: `must be at most ${CLIENT_MESSAGE_ID_MAX} characters` })
  .describe('Idempotency key chosen by the sender (a uuid, say): a retry with the same key stores nothing new and answers the stored message');

// ---- queries -----------------------------------------------------------------------------------

/** An opaque cursor from a previous page's `nextCursor`; one this service did not make → 400 invalid_cursor. */
export const cursor = z.string().min(1).max(200);

export const limit = z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).default(PAGE_LIMIT_DEFAULT);

/** GET /chats: `?cursor=&limit=`, nothing else. */
export const chatPageQuery = z.strictObject({ cursor: cursor.optional(), limit });
export type ChatPageQuery = z.infer<typeof chatPageQuery>;

/**
 * GET /chats/:id/messages: newest first. The next page is `?cursor=<nextCursor>`; `?before=<a
 * message id>` starts below a message the client already has (a gap after a reconnect). Not both.
 */
export const messagePageQuery = z
  .strictObject({
    cursor: cursor.optional(),
    before: messageId.optional().describe('Only messages older than this message id'),
    limit,
  })
  .refine((query) => query.cursor === undefined || query.before === undefined, {
    message: 'give cursor or before, not both',
    path: ['before'],
  });
export type MessagePageQuery = z.infer<typeof messagePageQuery>;

/**
 * GET /ws (the live socket): the access token as a query parameter (browsers cannot set headers
 * on a WebSocket; an Authorization header works too), and `since`, the last message id the client
 * has seen, to resume: what it missed is replayed before live events.
 */
export const liveQuery = z.strictObject({
  access_token: z.string().max(4096).optional().describe('The access token, for clients that cannot send an Authorization header (browsers)'),
  since: messageId.optional().describe('The last message id received: missed messages are replayed first'),
});

// ---- bodies ------------------------------------------------------------------------------------

/** POST /chats: the dialog with this user (created once). */
export const openChatBody = z.strictObject({ peerId: z.uuid() });
export type OpenChatBody = z.infer<typeof openChatBody>;

// A lone UTF-16 surrogate is not text (MySQL's utf8mb4 would refuse it with an error, not a 400);
// control characters other than tab and line breaks have no place in a message.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export const messageText = z
  .string()
  // Past the bound in UTF-16 units, zod counts code points, as people (and VARCHAR(4000) in
  // utf8mb4) do: 4000 emoji fit (api.test.ts holds zod to it).
  .max(MESSAGE_MAX_CHARACTERS, { message: `must be at most ${MESSAGE_MAX_CHARACTERS} characters` })
  .refine((text) => text.trim() !== '', { message: 'must not be blank' })
  .refine((text) => !LONE_SURROGATE.test(text), { message: 'must be valid text (no lone surrogates)' })
  .refine((text) => !CONTROL_CHARACTERS.test(text), { message: 'must not contain control characters (tab and line breaks are fine)' })
  .describe(`Not blank, at most ${MESSAGE_MAX_CHARACTERS} characters (Unicode code points: an emoji counts as one)`);

/** POST /chats/:id/messages */
export const sendMessageBody = z.strictObject({ text: messageText, clientMessageId });
export type SendMessageBody = z.infer<typeof sendMessageBody>;

/**
 * POST /chats/:id/read: everything up to this message id is read. A read marker never moves
 * backwards, and one past the chat's newest message stops at it.
 */
export const markReadBody = z.strictObject({ upTo: messageId });
export type MarkReadBody = z.infer<typeof markReadBody>;

// ---- answers -----------------------------------------------------------------------------------

/** POST /chats/:id/messages → 201 (new) or 200 (the same clientMessageId again); items of GET /chats/:id/messages. */
export const message = z.object({
  id: z.string().regex(/^[0-9]+$/),
  chatId: z.string().regex(/^[0-9]+$/),
  authorId: z.uuid(),
  text: z.string(),
  clientMessageId: z.string(),
  createdAt: z.iso.datetime(),
});
export type Message = z.infer<typeof message>;

export const messagePage = z.object({ items: z.array(message), nextCursor: z.string().nullable() });

/**
 * POST /chats → 201 (new) or 200 (the dialog existed), and the items of GET /chats (the caller's
 * view: `unread` counts the others' messages after the caller's read marker, `lastReadMessageId`).
 */
export const chat = z.object({
  id: z.string().regex(/^[0-9]+$/),
  kind: z.enum(['dialog', 'group']),
  /** User ids (auth's), in order. */
  participants: z.array(z.uuid()),
  createdAt: z.iso.datetime(),
  lastMessage: message.nullable(),
  unread: z.number().int().min(0),
  lastReadMessageId: z.string().regex(/^[0-9]+$/).nullable(),
});
export type Chat = z.infer<typeof chat>;

export const chatPage = z.object({ items: z.array(chat), nextCursor: z.string().nullable() });

// ---- live events (the WebSocket) ---------------------------------------------------------------

/** A new message in one of my chats (mine included: my other devices see it too). */
export const messageEvent = z.object({ type: z.literal('message'), message });
/** Someone (me included) read a chat of mine up to a message. */
export const readEvent = z.object({ type: z.literal('read'), chatId: z.string(), userId: z.uuid(), upTo: z.string() });
export type MessageLiveEvent = z.infer<typeof messageEvent>;
export type ReadLiveEvent = z.infer<typeof readEvent>;
export type MessengerLiveEvent = MessageLiveEvent | ReadLiveEvent;
