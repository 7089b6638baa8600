import type { Message } from '../api.js';
import type { ChatPosition } from './cursors.js';

/** A chat as one of its members sees it (store/chats.ts reads it). */
export interface ChatView {
  id: string;
  kind: 'dialog' | 'group';
  /** User ids, in order. */
  participants: string[];
  createdAt: number;
  /** When the last message was sent, or the chat was created: the order of my chat list. */
  lastActivityAt: number;
  lastMessage: Message | null;
  /** The others' messages after my read marker. */
  unread: number;
  /** My read marker; null before I read anything. */
  lastReadMessageId: string | null;
}

/** The chats and chat_members tables. */
export interface ChatStore {
  /** The id of the dialog with this key, if it exists. */
  findDialog(key: string): Promise<string | undefined>;
  /**
   * Creates the dialog between `a` and `b` (key: dialogKey(a, b)) once: when it exists already
   * (also when the other side created it a moment ago), answers that one with created false.
   */
  createDialog(key: string, a: string, b: string): Promise<{ id: string; created: boolean }>;
  /** The chat as `userId` sees it, or undefined when it does not exist or they are not in it. */
  view(chatId: string, userId: string): Promise<ChatView | undefined>;
  /** My chats, newest activity first, after `after` (exclusive), at most `limit`. */
  list(userId: string, after: ChatPosition | undefined, limit: number): Promise<ChatView[]>;
  /** The members of a chat (empty: no such chat). */
  members(chatId: string): Promise<string[]>;
}

/** Thrown by MessageStore.insert when the author already used this clientMessageId. */
export class DuplicateClientMessageId extends Error {
  override name = 'DuplicateClientMessageId';
}

/** The messages table, and the read markers in chat_members. */
export interface MessageStore {
  /**
   * Stores a message (the chat's row locked meanwhile, so a chat's messages commit in id order)
   * and makes it the chat's last; the time is the database's. Throws DuplicateClientMessageId.
   */
  insert(chatId: string, authorId: string, text: string, clientMessageId: string): Promise<Message>;
  byClientMessageId(authorId: string, clientMessageId: string): Promise<Message | undefined>;
  /** A chat's messages older than `before` (all when undefined), newest first. */
  page(chatId: string, before: string | undefined, limit: number): Promise<Message[]>;
  /**
   * Moves `userId`'s read marker in the chat forward to `upTo`, stopping at the chat's newest
   * message; never backwards. The new marker, or undefined when it did not move.
   */
  markRead(chatId: string, userId: string, upTo: string): Promise<string | undefined>;
}
