export type { Chat, Message } from '../api.js';

/** One page of a list: `{items, nextCursor}`, nextCursor null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
