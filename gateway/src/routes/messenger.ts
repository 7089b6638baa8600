import * as messenger from '@switchyard/messenger/api';
import type { z } from '@switchyard/infra';
import { defineRoute, path, type GatewayRoute } from '../route-table.js';
import { TIMEOUTS, noParams, pageOf } from './common.js';

// Answer shapes are named once in the OpenAPI document (as service-schemas.ts does for auth and
// social); the request schemas are messenger's own, so the edge and the service refuse alike.
const named = <Schema extends z.ZodType>(id: string, schema: Schema): Schema => schema.meta({ id });
const message = named('Message', messenger.message);
const chat = named('Chat', messenger.chat);
const MESSAGE_BODY_LIMIT = `${messenger.SEND_MESSAGE_BODY_LIMIT_KB}kb`;

/**
 * `/api/v1/messenger/<x>` → messenger `/<x>`; every route needs a signed-in user. A chat's routes
 * answer 404 chat_not_found to anyone who is not in it, the same as for an unknown id.
 * `GET /api/v1/messenger/ws` is also an upgrade route: upgrade.ts checks the token (header or
 * `access_token` query parameter) before relaying the WebSocket to a passing instance.
 */
export const messengerRoutes: GatewayRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/messenger/chats',
    service: 'messenger',
    auth: 'user',
    params: noParams,
    body: messenger.openChatBody,
    upstreamPath: () => path`/chats`,
    timeouts: TIMEOUTS.quick,
    // Opening a dialog twice answers the same dialog: safe to retry on another instance.
    idempotent: true,
    docs: {
      summary: 'Open the dialog with a user',
      description:
        'Created once per pair of users, whoever asks first (also when both ask at the same moment); ' +
        'asking again answers the same chat with 200. An unknown user → 404 user_not_found; yourself → 400.',
      responses: {
        201: { description: 'the new dialog', schema: chat },
        200: { description: 'the dialog, which existed', schema: chat },
      },
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/messenger/chats',
    service: 'messenger',
    auth: 'user',
    params: noParams,
    query: messenger.chatPageQuery,
    upstreamPath: () => path`/chats`,
    timeouts: TIMEOUTS.quick,
    docs: {
      summary: 'My chats, newest activity first',
      description: 'Each with its participants, last message, my unread count and my read marker.',
      responses: { 200: { description: 'one page of chats', schema: pageOf(chat) } },
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/messenger/chats/:id/messages',
    service: 'messenger',
    auth: 'user',
    params: messenger.chatIdParams,
    body: messenger.sendMessageBody,
    upstreamPath: ({ id }) => path`/chats/${id}/messages`,
    // 4000 characters are up to 16 kB of UTF-8, and up to 48 kB from clients that escape every
    // non-ASCII character (\ud83d\ude00 per emoji: Python's json.dumps does by default).
    maxBodySize: MESSAGE_BODY_LIMIT,
    timeouts: TIMEOUTS.quick,
    // The clientMessageId makes a retry harmless: an attempt that timed out may be tried on
    // another instance, which answers the stored message instead of storing a second one.
    idempotent: true,
    docs: {
      summary: 'Send a message (at most 4000 characters)',
      description:
        'clientMessageId is the idempotency key: the same key from the same author stores one message and answers it ' +
        'again with 200, whichever instance the retry reaches. The same key for another text or chat → 409.',
      responses: {
        201: { description: 'the stored message', schema: message },
        200: { description: 'the message stored earlier with this clientMessageId', schema: message },
      },
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/messenger/chats/:id/messages',
    service: 'messenger',
    auth: 'user',
    params: messenger.chatIdParams,
    query: messenger.messagePageQuery,
    upstreamPath: ({ id }) => path`/chats/${id}/messages`,
    timeouts: TIMEOUTS.quick,
    docs: {
      summary: "A chat's messages, newest first",
      description: 'Follow nextCursor for older pages, or start below a message with ?before=<message id>.',
      responses: { 200: { description: 'one page of messages', schema: pageOf(message) } },
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/messenger/chats/:id/read',
    service: 'messenger',
    auth: 'user',
    params: messenger.chatIdParams,
    body: messenger.markReadBody,
    upstreamPath: ({ id }) => path`/chats/${id}/read`,
    timeouts: TIMEOUTS.quick,
    // Moving a marker forward to the same place twice changes nothing the second time.
    idempotent: true,
    docs: {
      summary: 'Mark a chat read up to a message',
      description: "A read marker never moves backwards; past the chat's newest message it stops there.",
      responses: { 204: { description: 'marked' } },
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/messenger/ws',
    service: 'messenger',
    auth: 'user',
    params: noParams,
    query: messenger.liveQuery,
    upstreamPath: () => path`/ws`,
    timeouts: TIMEOUTS.quick,
    docs: {
      summary: 'Live events (WebSocket upgrade)',
      description:
        'Upgrade to a WebSocket; the token comes as Authorization header or access_token query parameter. The first event ' +
        'is {type:"ready", servedBy}; then {type:"message", message} and {type:"read", chatId, userId, upTo} for my chats. ' +
        'Resume after a disconnect with ?since=<last message id>: missed messages are replayed first (clients dedupe by id).',
      responses: { 101: { description: 'switching to the WebSocket protocol' } },
    },
  }),
];
