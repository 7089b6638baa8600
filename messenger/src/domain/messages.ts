import type { Message, Page } from './types.js';
import { decodeMessageCursor, encodeMessageCursor } from './cursors.js';
import { MessengerError, chatNotFound } from './errors.js';
import { announce, type LiveEvents, type PublishErrorReporter } from './live-events.js';
import { DuplicateClientMessageId, type ChatStore, type MessageStore } from './stores.js';

export interface SendOutcome {
  message: Message;
  /** false: the author sent this clientMessageId before, and this is the stored message again. */
  created: boolean;
}

/**
 * Sending, reading and marking messages read, in chats the caller is a member of (anyone else:
 * chat_not_found). Every committed change is then announced to every member's live topic.
 */
export class Messages {
  constructor(
    private readonly chats: Pick<ChatStore, 'members'>,
    private readonly store: MessageStore,
    private readonly events: LiveEvents,
    private readonly onPublishError: PublishErrorReporter,
  ) {}

  /**
   * Stores the message once per (author, clientMessageId): a retry, also one racing the first
   * attempt on another instance, gets the stored message back (created false).
   *
   * Every attempt announces the message, the retry too: the first attempt's instance may have died
   * between its commit and its publish, and then the retry's announcement is the only one. Sockets
   * on that instance would get the message back when they resume, but sockets on the others never
   * resume, so without it they would never see the message. A socket sends each message id once
   * (live-feed.ts), so the sockets that did get the first announcement drop the second.
   */
  async send(authorId: string, chatId: string, text: string, clientMessageId: string): Promise<SendOutcome> {
    const members = await this.membersFor(chatId, authorId);
    const outcome = await this.storeOnce(chatId, authorId, text, clientMessageId);
    await announce(this.events, members, { type: 'message', message: outcome.message }, this.onPublishError);
    return outcome;
  }

  private async storeOnce(chatId: string, authorId: string, text: string, clientMessageId: string): Promise<SendOutcome> {
    const earlier = await this.store.byClientMessageId(authorId, clientMessageId);
    if (earlier) return { message: sameMessage(earlier, chatId, text), created: false };
    try {
      return { message: await this.store.insert(chatId, authorId, text, clientMessageId), created: true };
    } catch (error) {
      if (!(error instanceof DuplicateClientMessageId)) throw error;
      // A concurrent attempt with the same key committed first: answer what it stored.
      const stored = await this.store.byClientMessageId(authorId, clientMessageId);
      if (!stored) throw error;
      return { message: sameMessage(stored, chatId, text), created: false };
    }
  }

  async page(userId: string, chatId: string, options: { cursor?: string; before?: string; limit: number }): Promise<Page<Message>> {
    await this.membersFor(chatId, userId);
    const before = options.cursor !== undefined ? decodeMessageCursor(options.cursor) : options.before;
    const found = await this.store.page(chatId, before, options.limit + 1);
    const items = found.slice(0, options.limit);
    const nextCursor = found.length > options.limit ? encodeMessageCursor(items.at(-1)!.id) : null;
    return { items, nextCursor };
  }

  /** Marks the chat read up to `upTo` for `userId`; announced only when the marker moved. */
  async markRead(userId: string, chatId: string, upTo: string): Promise<void> {
    const members = await this.membersFor(chatId, userId);
    const marker = await this.store.markRead(chatId, userId, upTo);
    if (marker === undefined) return;
    await announce(this.events, members, { type: 'read', chatId, userId, upTo: marker }, this.onPublishError);
  }

  /** The chat's members, when `userId` is one of them; chat_not_found otherwise. */
  private async membersFor(chatId: string, userId: string): Promise<string[]> {
    const members = await this.chats.members(chatId);
    if (!members.includes(userId)) throw chatNotFound();
    return members;
  }
}

/**
 * The stored message answers a retry only when the retry asks for the same thing: the same key
 * for another chat or another text is a client bug, refused rather than silently answered with a
 * message the client did not mean.
 */
function sameMessage(stored: Message, chatId: string, text: string): Message {
  if (stored.chatId !== chatId || stored.text !== text) {
    throw new MessengerError('client_message_id_reused', 'this clientMessageId was already used for another message; use a new one per message');
  }
  return stored;
}
