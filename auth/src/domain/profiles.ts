import type { OwnProfile, PublicProfile } from '../api.js';
import { AuthError } from './errors.js';

/** A user as stored (the password hash stays in the store and in accounts.ts). */
export interface UserRecord {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  /** YYYY-MM-DD */
  birthday: string;
  gender: string | null;
  city: string | null;
  interests: string | null;
  createdAt: number;
}

export const publicProfile = (user: UserRecord): PublicProfile => ({
  id: user.id,
  firstName: user.firstName,
  lastName: user.lastName,
  birthday: user.birthday,
  gender: user.gender,
  city: user.city,
  interests: user.interests,
  createdAt: new Date(user.createdAt).toISOString(),
});

/** The owner's own view: the public profile and the email (the hash never leaves the store). */
export const ownProfile = (user: UserRecord): OwnProfile => ({ ...publicProfile(user), email: user.email });

/**
 * Which index a name search walks: by last name (then first name, id) when a last-name prefix is
 * given, by first name (then last name, id) otherwise. Each has its own index, so both are range
 * scans over just the matching names.
 */
export type SearchOrder = 'last' | 'first';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A page cursor: the order and the id of the page's last person, base64url-encoded (opaque to
 * clients). The store looks that person's names up again, so the cursor stays short whatever the
 * names' length, and a cursor cannot smuggle arbitrary names into the query.
 */
export function encodeCursor(order: SearchOrder, lastId: string): string {
  return Buffer.from(`${order}:${lastId}`, 'utf8').toString('base64url');
}

/** The id after which the next page starts; invalid_cursor for anything this service did not make for `order`. */
export function decodeCursor(cursor: string, order: SearchOrder): string {
  const decoded = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const [cursorOrder, id, ...rest] = decoded.split(':');
  if (cursorOrder !== order || id === undefined || !UUID.test(id) || rest.length > 0) {
    throw new AuthError('invalid_cursor', 'cursor is not valid for this search; start again without it');
  }
  return id;
}
