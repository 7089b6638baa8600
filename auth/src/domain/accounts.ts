import { randomUUID } from 'node:crypto';
import type { OwnProfile, PublicProfile, SignUpBody, UserSearchQuery } from '../api.js';
import { AuthError } from './errors.js';
import type { PasswordHasher } from './passwords.js';
import { decodeCursor, encodeCursor, ownProfile, publicProfile, type SearchOrder, type UserRecord } from './profiles.js';

export interface NewUser extends UserRecord {
  passwordHash: string;
}

export interface NameSearch {
  order: SearchOrder;
  /** Prefixes; '' matches every name. */
  first: string;
  last: string;
  /** Start after this person (a cursor's id). */
  afterId?: string;
  limit: number;
}

export interface UserStore {
  /** 'email_taken' when another account has the email (the unique index decides, not a prior read). */
  insert(user: NewUser): Promise<'created' | 'email_taken'>;
  credentials(email: string): Promise<{ id: string; passwordHash: string } | undefined>;
  replacePasswordHash(id: string, passwordHash: string, now: number): Promise<void>;
  byId(id: string): Promise<UserRecord | undefined>;
  byIds(ids: readonly string[]): Promise<UserRecord[]>;
  /** Up to `limit` people in the search's order; 'unknown_anchor' when `afterId` names nobody. */
  search(search: NameSearch): Promise<UserRecord[] | 'unknown_anchor'>;
}

/** Accounts and the profiles they carry: sign-up, credential checks, lookups and name search. */
export class Accounts {
  constructor(
    private readonly store: UserStore,
    private readonly hasher: PasswordHasher,
    private readonly now: () => number = Date.now,
  ) {}

  async signUp(input: SignUpBody): Promise<OwnProfile> {
    const user: NewUser = {
      id: randomUUID(),
      email: input.email,
      passwordHash: await this.hasher.hash(input.password),
      firstName: input.firstName,
      lastName: input.lastName,
      birthday: input.birthday,
      gender: input.gender ?? null,
      city: input.city ?? null,
      interests: input.interests ?? null,
      createdAt: this.now(),
    };
    if ((await this.store.insert(user)) === 'email_taken') {
      throw new AuthError('email_taken', 'an account with this email already exists');
    }
    return ownProfile(user);
  }

  /**
   * The id of the account `email` + `password` open, or undefined. An unknown email costs the
   * same argon2 verify as a wrong password (PasswordHasher.verifyOrWaste), so neither the answer
   * nor its time tells whether the account exists.
   */
  async authenticate(email: string, password: string): Promise<string | undefined> {
    const account = await this.store.credentials(email);
    const valid = await this.hasher.verifyOrWaste(account?.passwordHash, password);
    if (!account || !valid) return undefined;
    // The one moment the password is known: upgrade a hash made with older parameters.
    if (await this.hasher.isOutdated(account.passwordHash)) {
      await this.store.replacePasswordHash(account.id, await this.hasher.hash(password), this.now());
    }
    return account.id;
  }

  async own(id: string): Promise<OwnProfile> {
    return ownProfile(await this.existing(id));
  }

  async profile(id: string): Promise<PublicProfile> {
    return publicProfile(await this.existing(id));
  }

  /** The profiles of the ids that exist, in any order. */
  async profiles(ids: readonly string[]): Promise<PublicProfile[]> {
    return (await this.store.byIds(ids.map((id) => id.toLowerCase()))).map(publicProfile);
  }

  async search(query: UserSearchQuery): Promise<{ items: PublicProfile[]; nextCursor: string | null }> {
    const order: SearchOrder = query.last ? 'last' : 'first';
    const afterId = query.cursor === undefined ? undefined : decodeCursor(query.cursor, order);
    // One more than asked: whether it comes back says if there is a next page.
    const found = await this.store.search({ order, first: query.first ?? '', last: query.last ?? '', afterId, limit: query.limit + 1 });
    if (found === 'unknown_anchor') throw new AuthError('invalid_cursor', 'cursor is not valid for this search; start again without it');
    const page = found.slice(0, query.limit);
    const last = page.at(-1);
    return { items: page.map(publicProfile), nextCursor: found.length > query.limit && last ? encodeCursor(order, last.id) : null };
  }

  private async existing(id: string): Promise<UserRecord> {
    const user = await this.store.byId(id.toLowerCase());
    if (!user) throw new AuthError('user_not_found', 'no such user');
    return user;
  }
}
