/**
 * The auth service's HTTP contract: request schemas (zod) and answer shapes. One source of truth:
 * the service validates with these, the gateway imports them (`@switchyard/auth/api`) to reject
 * bad input at the edge and to generate the OpenAPI document, and social reads profiles in these
 * shapes. Importing this module starts nothing.
 *
 * The public request schemas only use checks that keep the type a string (trim, normalize,
 * toLowerCase), never a `.transform()`: the gateway validates and then forwards the original
 * bytes, and OpenAPI generation sees plain string schemas. (The internal `userBatchQuery` splits
 * its list with one; it is never on the gateway.)
 */
import { z } from '@switchyard/infra';

// C0 and C1 controls (NUL, newlines, escape sequences...) have no place in a name or a city, and
// a lone UTF-16 surrogate is not text at all (MySQL's utf8mb4 would refuse it with a 500).
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (value: string) => !LONE_SURROGATE.test(value);
const isText = (value: string) => isWellFormed(value) && !CONTROL_CHARACTERS.test(value);

/** A short single-line text: trimmed, NFC (so a prefix search matches however it was typed). */
const line = (max: number) =>
  z
    .string()
    .trim()
    .normalize('NFC')
    .min(1)
    .max(max)
    .refine(isText, { message: 'must be text without control characters' });

export const email = z.email().max(254).toLowerCase();

/** At least 8 characters (NIST SP 800-63B's floor); 128 bounds the cost of hashing it. */
export const newPassword = z
  .string()
  .min(8)
  .max(128)
  .refine(isWellFormed, { message: 'must be valid text' })
  .refine((value) => new Set(value).size >= 4, { message: 'is too weak: use more different characters' });

/** YYYY-MM-DD, a real day, not in the future, within the range a SQL DATE holds. */
export const birthday = z.iso
  .date()
  .refine((value) => value >= '1000-01-01', { message: 'must be 1000-01-01 or later' })
  .refine((value) => value <= new Date().toISOString().slice(0, 10), { message: 'must not be in the future' });

export const signUpBody = z.strictObject({
  email,
  password: newPassword,
  firstName: line(100),
  lastName: line(100),
  birthday,
  gender: line(32).optional(),
  city: line(100).optional(),
  interests: z
    .string()
    .trim()
    .normalize('NFC')
    .max(1000)
    .refine((value) => isWellFormed(value) && !value.includes('\u0000'), { message: 'must be valid text' })
    .optional(),
});
export type SignUpBody = z.infer<typeof signUpBody>;

/** Any password up to the hashing bound: a sign-in never tells which rules a password breaks. */
export const signInBody = z.strictObject({ email, password: z.string().min(1).max(128) });
export type SignInBody = z.infer<typeof signInBody>;

/** 32 random bytes, base64url: 43 characters. */
export const refreshToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { message: 'is not a refresh token' });
export const refreshBody = z.strictObject({ refreshToken });
export const signOutBody = refreshBody;

export const publicProfile = z.object({
  id: z.uuid(),
  firstName: z.string(),
  lastName: z.string(),
  birthday: z.iso.date(),
  gender: z.string().nullable(),
  city: z.string().nullable(),
  interests: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export type PublicProfile = z.infer<typeof publicProfile>;

/** The caller's own profile (sign-up's answer, GET /me): the public one plus the email. */
export const ownProfile = publicProfile.extend({ email: z.string() });
export type OwnProfile = z.infer<typeof ownProfile>;

export const tokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  /** Seconds until the access token expires. */
  expiresIn: z.number().int(),
});
export type TokenPair = z.infer<typeof tokenPair>;

// ---- internal profile routes (called by social with the caller's bearer token) --------------

export const userIdParams = z.strictObject({ id: z.uuid() });

const prefix = z
  .string()
  .trim()
  .normalize('NFC')
  .max(100)
  .refine(isText, { message: 'must be text without control characters' });

/**
 * GET /users?first=&last=&cursor=&limit= — people whose first and last names start with these
 * prefixes (at least one non-empty), ordered by last name, first name, id.
 */
export const userSearchQuery = z
  .strictObject({
    first: prefix.optional(),
    last: prefix.optional(),
    cursor: z.string().max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
  })
  .refine((query) => Boolean(query.first || query.last), { message: 'give a first or last name prefix', path: ['first'] });
export type UserSearchQuery = z.infer<typeof userSearchQuery>;

/** GET /users?ids=<id>,<id> — up to 100 profiles, in any order; unknown ids are left out. */
export const userBatchQuery = z.strictObject({
  ids: z
    .string()
    .max(100 * 37)
    .transform((raw) => [...new Set(raw.split(','))])
    .pipe(z.array(z.uuid()).min(1).max(100)),
});

export const profilePage = z.object({ items: z.array(publicProfile), nextCursor: z.string().nullable() });
export const profileBatch = z.object({ items: z.array(publicProfile) });

/** GET /.well-known/jwks.json */
export const jwks = z.object({
  keys: z.array(
    z.object({ kty: z.literal('OKP'), crv: z.literal('Ed25519'), x: z.string(), kid: z.string(), alg: z.literal('EdDSA'), use: z.literal('sig') }),
  ),
});
