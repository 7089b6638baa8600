/**
 * Which signing keys sign and which are published, at a given time: pure rules over the rows of
 * one key ring, so every instance that reads the same rows reaches the same answer.
 *
 * A key signs from its `activatesAt` until the next key activates; it stays published until the
 * last token it signed has expired (plus a margin for instances that noticed the successor late
 * and for clock skew). A new key is published `publishAheadMs` before it signs, so every instance's
 * JWKS (reloaded at least that often) holds it before any token carries its kid. Only the very
 * first key signs at once: no token exists yet that a verifier could fail on.
 */
export interface SigningKeyRecord {
  kid: string;
  /** The public JWK as generated ({kty, crv, x}). */
  publicJwk: { kty: string; crv: string; x: string };
  /** The private key (PKCS#8 DER), sealed by KeyCipher. */
  sealedPrivateKey: Buffer;
  createdAt: number;
  activatesAt: number;
}

export interface SchedulePolicy {
  /** A key that has signed this long gets a successor. */
  rotateAfterMs: number;
  /** The access tokens' lifetime: a retired key stays published this long (plus the margin). */
  tokenLifetimeMs: number;
  /** Clock skew between instances plus the longest an instance signs with a key it thinks current. */
  retiredMarginMs: number;
  /** How long a successor is published before it signs (≥ the key ring's reload interval). */
  publishAheadMs: number;
}

export interface Schedule {
  /** The key every instance signs with now (undefined only for an empty ring). */
  signing: SigningKeyRecord | undefined;
  /** Every key a verifier may meet now: the signing one, the pending ones, the recently retired. */
  published: SigningKeyRecord[];
  /** Keys no valid token can carry any more: safe to delete. */
  expired: SigningKeyRecord[];
  /** True when the ring is empty or its newest key has signed for rotateAfterMs. */
  needsNewKey: boolean;
}

const byActivation = (a: SigningKeyRecord, b: SigningKeyRecord) =>
  a.activatesAt - b.activatesAt || (a.kid < b.kid ? -1 : a.kid > b.kid ? 1 : 0);

export function keySchedule(records: readonly SigningKeyRecord[], now: number, policy: SchedulePolicy): Schedule {
  const sorted = [...records].sort(byActivation);
  const active = sorted.filter((record) => record.activatesAt <= now);
  // A first key created by an instance whose clock runs slightly ahead of ours still signs here.
  const signing = active.at(-1) ?? sorted[0];
  const published: SigningKeyRecord[] = [];
  const expired: SigningKeyRecord[] = [];
  sorted.forEach((record, index) => {
    const successor = sorted[index + 1];
    const retiredUntil = successor ? successor.activatesAt + policy.tokenLifetimeMs + policy.retiredMarginMs : Infinity;
    (record === signing || now < retiredUntil ? published : expired).push(record);
  });
  const newest = sorted.at(-1);
  const needsNewKey = newest === undefined || newest.activatesAt + policy.rotateAfterMs <= now;
  return { signing, published, expired, needsNewKey };
}

/** When a key created now starts signing. */
export function activationOfNewKey(records: readonly SigningKeyRecord[], now: number, policy: SchedulePolicy): number {
  return records.length === 0 ? now : now + policy.publishAheadMs;
}
