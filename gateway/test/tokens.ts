/**
 * Access tokens for the gateway's tests, signed with jose exactly as the design says auth signs
 * them (EdDSA, `kid`, iss/aud/sub/sid, 15 min), plus every way a token can be wrong. The key set
 * goes to the stand-in auth (fixtures/stand-in-service.ts) through STAND_IN_JWKS.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

export const ISSUER = 'switchyard-auth';
export const AUDIENCE = 'switchyard';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  /** The public JWK as auth publishes it. */
  jwk: Record<string, unknown>;
}

export async function signingKey(kid: string = `test-${randomUUID().slice(0, 8)}`): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'EdDSA', use: 'sig' } };
}

/** The JWKS document of `keys`, as the stand-in serves it. */
export const jwksOf = (...keys: SigningKey[]) => JSON.stringify({ keys: keys.map((key) => key.jwk) });

export interface TokenOptions {
  sub?: string;
  /** Seconds from now; negative: already expired. */
  expiresIn?: number;
  kid?: string;
  issuer?: string;
  audience?: string;
}

export function accessToken(key: SigningKey, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? 900;
  return new SignJWT({ sid: randomUUID() })
    .setProtectedHeader({ alg: 'EdDSA', kid: options.kid ?? key.kid, typ: 'JWT' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setSubject(options.sub ?? randomUUID())
    .setIssuedAt(Math.min(now, now + expiresIn - 60))
    .setExpirationTime(now + expiresIn)
    .sign(key.privateKey);
}

/** An unsigned token (`alg: none`) with perfectly good claims: only the missing signature is wrong. */
export function unsignedToken(kid: string, sub: string = randomUUID()): string {
  const now = Math.floor(Date.now() / 1000);
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { iss: ISSUER, aud: AUDIENCE, sub, sid: randomUUID(), iat: now, exp: now + 900 };
  return `${part({ alg: 'none', kid, typ: 'JWT' })}.${part(claims)}.`;
}

/** `token` with its payload swapped for one naming another user, the signature kept. */
export function tamperedToken(token: string, sub: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = { ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), sub };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}
