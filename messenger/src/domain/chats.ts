import type { Chat, Page } from './types.js';
import { decodeChatCursor, encodeChatCursor } from './cursors.js';
import { MessengerError, chatNotFound } from './errors.js';
import { dialogKey } from './ids.js';
import type { ChatStore, ChatView } from './stores.js';
import type { Caller, UserDirectory } from './users.js';

/** The chat as the API answers it. */
export function toChat(view: ChatView): Chat {
  return {
    id: view.id,
    kind: view.kind,
    participants: view.participants,
    createdAt: new Date(view.createdAt).toISOString(),
    lastMessage: view.lastMessage,
    unread: view.unread,
    lastReadMessageId: view.lastReadMessageId,
  };
}

/**
 * Dialogs (one per pair of users, whoever opens it first) and my chat list. Only members ever see
 * a chat: anyone else gets chat_not_found, the same as for an id that does not exist.
 */
export class Chats {
  constructor(
    private readonly store: ChatStore,
    private readonly users: UserDirectory,
  ) {}

  /** The dialog between the caller and `peerId` (lower-case), created on first use. */
  async open(caller: Caller, peerId: string): Promise<{ chat: Chat; created: boolean }> {
    if (peerId === caller.id) throw new MessengerError('cannot_chat_with_self', 'a dialog needs another user than yourself');
    const key = dialogKey(caller.id, peerId);
    // An existing dialog needs no word from auth: its peer was checked when it was created.
    const existing = await this.store.findDialog(key);
    if (existing !== undefined) return { chat: await this.read(existing, caller.id), created: false };
    if (!(await this.users.exists(peerId, caller))) throw new MessengerError('user_not_found', 'no such user');
    const { id, created } = await this.store.createDialog(key, caller.id, peerId);
    return { chat: await this.read(id, caller.id), created };
  }

  async list(userId: string, cursor: string | undefined, limit: number): Promise<Page<Chat>> {
    const after = cursor === undefined ? undefined : decodeChatCursor(cursor);
    const views = await this.store.list(userId, after, limit + 1);
    const page = views.slice(0, limit);
    const last = page.at(-1);
    // Keyset paging on (last activity, id): a chat whose activity changes while the client pages
    // moves to the top (the client hears of it live) instead of shifting every later page.
    const nextCursor = views.length > limit && last ? encodeChatCursor({ activityAt: last.lastActivityAt, chatId: last.id }) : null;
    return { items: page.map(toChat), nextCursor };
  }

  private async read(chatId: string, userId: string): Promise<Chat> {
    const view = await this.store.view(chatId, userId);
    if (!view) throw chatNotFound();
    return toChat(view);
  }
}
