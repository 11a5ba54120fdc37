// Secrets at rest: users' secret keys are sealed with AES-256-GCM before they reach the metadata
// store. SigV4 needs the plain secret to verify a signature, so a hash would not do; the key is
// derived by HKDF-SHA256 from the configured master key or, without one, from the root secret key.
// Each sealed secret carries the id of the key that sealed it (a fingerprint, never the key), so a
// server opened with another key refuses loudly instead of treating keys as unknown.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { SealedSecret } from '../store/identities.js';

const SALT = 'strata-iam-secrets';
const INFO = 'aes-256-gcm v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A stored secret this server cannot open: it was sealed with another key (or is damaged). */
export class SecretUnreadableError extends Error {
  constructor(
    readonly storedKeyId: string,
    readonly currentKeyId: string,
    what: string,
  ) {
    super(
      `${what} was sealed with key ${storedKeyId} but this server's key is ${currentKeyId}: ` +
        'the root secret key changed without a --master-key. Start the server with the former root secret as --master-key (STRATA_MASTER_KEY) to read the stored secrets.',
    );
    this.name = 'SecretUnreadableError';
  }
}

/**
 * The key material of a configured key text: `NAME:BASE64` (MinIO's KMS_SECRET_KEY form) or BASE64
 * of exactly 32 bytes → those bytes; any other text (a passphrase, a root secret) → its UTF-8
 * bytes. The root secret goes through the same rule, so a former root secret given as
 * --master-key derives the very key it derived as the root secret.
 */
export function keyMaterial(text: string): Buffer {
  const named = /^[A-Za-z0-9_.-]+:(.+)$/.exec(text);
  const b64 = named ? named[1]! : text;
  if (/^[A-Za-z0-9+/]{43}=$/.test(b64)) {
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length === 32) return bytes;
  }
  return Buffer.from(text, 'utf8');
}

export class SecretBox {
  /** `v1:` + 16 hex of an HMAC of the derived key: names the key, reveals nothing of it. */
  readonly keyId: string;
  private readonly key: Buffer;

  /** `masterKey` wins; without it the root secret key is the material. */
  constructor(opts: { masterKey?: string | undefined; rootSecret: string }) {
    const material = keyMaterial(opts.masterKey ?? opts.rootSecret);
    this.key = Buffer.from(hkdfSync('sha256', material, SALT, INFO, 32));
    this.keyId = `v1:${createHmac('sha256', this.key).update('strata key id').digest('hex').slice(0, 16)}`;
  }

  /** A key for another purpose (STS session tokens: sessions.ts), HKDF-derived from this one: same material, separate key. */
  derive(purpose: string): Buffer {
    return Buffer.from(hkdfSync('sha256', this.key, SALT, purpose, 32));
  }

  /** Seals a secret; `context` (the access key id) is bound as associated data, so a sealed secret cannot be moved to another key. */
  seal(plain: string, context: string): SealedSecret {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return { keyId: this.keyId, sealed: Buffer.concat([iv, body, c.getAuthTag()]) };
  }

  /** The plain secret; SecretUnreadableError when sealed with another key or damaged. */
  open(secret: SealedSecret, context: string): string {
    const what = `the secret of access key ${context}`;
    if (secret.keyId !== this.keyId) throw new SecretUnreadableError(secret.keyId, this.keyId, what);
    const s = secret.sealed;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, s.subarray(0, IV_BYTES));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(s.subarray(s.length - TAG_BYTES));
      return Buffer.concat([d.update(s.subarray(IV_BYTES, s.length - TAG_BYTES)), d.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError(secret.keyId, this.keyId, `${what} (damaged: authentication tag mismatch)`);
    }
  }
}
