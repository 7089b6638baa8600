import type { PublicProfile, UserSearchQuery } from '../api.js';
import { SocialError } from './errors.js';

/**
 * Who is calling: their user id (from their verified access token) and that token as they sent
 * it. auth owns the profiles and, like every service, authenticates each call itself, so social
 * reads profiles on the caller's behalf with the caller's own credentials (never a service key
 * that could read anything).
 */
export interface Caller {
  id: string;
  credentials: string;
}

export interface ProfilePage {
  items: PublicProfile[];
  nextCursor: string | null;
}

/** The profiles auth keeps, read through its API (see store/auth-profiles.ts). */
export interface ProfileDirectory {
  /** undefined when auth knows no such user. */
  profile(id: string, caller: Caller): Promise<PublicProfile | undefined>;
  /** The profiles of the ids auth knows, in any order; unknown ids are left out. */
  profiles(ids: readonly string[], caller: Caller): Promise<PublicProfile[]>;
  search(query: UserSearchQuery, caller: Caller): Promise<ProfilePage>;
}

export async function requireProfile(directory: ProfileDirectory, id: string, caller: Caller): Promise<PublicProfile> {
  const profile = await directory.profile(id, caller);
  if (!profile) throw new SocialError('user_not_found', 'no such user');
  return profile;
}
