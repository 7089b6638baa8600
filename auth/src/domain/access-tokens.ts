import { randomUUID, type KeyObject } from 'node:crypto';
import { ACCESS_TOKEN_ALGORITHM, ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@switchyard/infra';
import { SignJWT } from 'jose';

export interface KeySource {
  signingKey(): Promise<{ kid: string; privateKey: KeyObject }>;
}

/**
 * Mints access tokens: short-lived EdDSA JWTs naming the user (`sub`) and the session family
 * (`sid`), signed with the ring's current key and carrying its `kid`, so any instance's JWKS
 * verifies them.
 */
export class AccessTokens {
  constructor(
    private readonly keys: KeySource,
    readonly lifetimeSeconds: number,
  ) {}

  async issue(subject: { userId: string; sessionId: string }): Promise<{ accessToken: string; expiresIn: number }> {
    const { kid, privateKey } = await this.keys.signingKey();
    const accessToken = await new SignJWT({ sid: subject.sessionId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALGORITHM, kid, typ: 'JWT' })
      // The claims infra's TokenVerifier checks, from the same constants.
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(subject.userId)
      .setIssuedAt()
      // Unique per token (two minted in one second are otherwise byte-identical): logs can tell them apart.
      .setJti(randomUUID())
      .setExpirationTime(`${this.lifetimeSeconds}s`)
      .sign(privateKey);
    return { accessToken, expiresIn: this.lifetimeSeconds };
  }
}
