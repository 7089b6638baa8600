/**
 * Who is calling: their user id (from their verified access token) and that token as they sent
 * it. auth owns the users and authenticates each call itself, so messenger asks about users on the
 * caller's behalf with the caller's own credentials (never a service key that could read anything).
 */
export interface Caller {
  id: string;
  credentials: string;
}

/** The users auth knows, read through its API (store/auth-users.ts). */
export interface UserDirectory {
  exists(userId: string, caller: Caller): Promise<boolean>;
}
