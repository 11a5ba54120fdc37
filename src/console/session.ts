// The console's sessions (docs/console.md, "How the console authenticates"). A login exchanges an
// access key and its secret (and an STS token, if any) for a cookie the page's JavaScript cannot
// read (HttpOnly, SameSite=Strict, Secure over TLS). The cookie is a sealed, self-contained token:
// AES-256-GCM under a key HKDF-derived from the server's secret box (as iam/sessions.ts seals STS
// tokens), so every process on the data directory opens it and nothing is stored. It carries the
// key, its secret, the STS token and an expiry (12 h, capped by an STS session's own). Every request
// opens it and resolves the key again through the normal credential source, comparing the secret in
// constant time: a disabled or deleted key or user, or a changed secret, ends the session at once.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { requestPrincipalOf } from '../iam/authorize.js';
import type { CredentialSource, Principal } from '../iam/principal.js';
import type { SecretBox } from '../iam/secret-box.js';
import { SessionTokenError } from '../iam/sessions.js';

export const COOKIE_NAME = 'strata_console';
/** How long a console session lasts at most. */
export const SESSION_MS = 12 * 3600_000;
const PURPOSE = 'strata console session v1';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** A cookie longer than this is not ours (an STS token is at most 8 KiB). */
const MAX_COOKIE_CHARS = 12 * 1024;
/** The longest cookie value sent: with its name and attributes it stays under browsers' 4096 bytes. */
const MAX_SET_COOKIE_VALUE = 3900;
/** Bound as associated data: a console cookie opens only as one. */
const AAD = Buffer.from(COOKIE_NAME, 'utf8');

/** A refused login or request: the JSON answer's status, code and message (never a secret). */
export class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConsoleError';
  }
}

/** What the cookie carries (sealed). */
interface Claims {
  accessKeyId: string;
  secretKey: string;
  sessionToken?: string;
  /** ms since the epoch. */
  expires: number;
}

/** A session as a request sees it: its principal, and what GET /api/session answers. */
export interface ConsoleSession {
  readonly principal: Principal;
  readonly expires: number;
  /** The session's own key (presigned URLs are signed with it); only presign.ts reads it. */
  readonly keys: { readonly accessKeyId: string; readonly secretKey: string; readonly sessionToken?: string };
}

/** The JSON of POST/GET /api/session (no secret in it). */
export function describeSession(s: ConsoleSession): Record<string, string> {
  const p = s.principal;
  const rp = requestPrincipalOf(p);
  const user = p.kind === 'root' ? 'root' : p.session ? `${p.session.roleName}/${p.session.sessionName}` : (p.userName ?? '');
  return {
    accessKeyId: p.accessKeyId,
    user,
    arn: rp.arn,
    kind: p.kind === 'root' ? 'root' : 'user',
    expiresAt: new Date(s.expires).toISOString(),
  };
}

/** Constant-time equality of two secrets (their digests are compared, so lengths leak nothing either). */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

export class ConsoleSessions {
  private readonly key: Buffer;

  constructor(
    box: SecretBox,
    private readonly credentials: CredentialSource,
    private readonly now: () => number = Date.now,
  ) {
    this.key = box.derive(PURPOSE);
  }

  /**
   * Checks a login's credentials as a signature check would (the same source, the same refusals)
   * and returns the session and its sealed cookie value. Throws ConsoleError 403.
   */
  async login(accessKeyId: string, secretKey: string, sessionToken: string | undefined): Promise<{ session: ConsoleSession; cookie: string }> {
    const principal = await this.resolve(accessKeyId, secretKey, sessionToken);
    const now = this.now();
    const expires = Math.min(now + SESSION_MS, principal.session?.expires ?? Number.POSITIVE_INFINITY);
    const claims: Claims = { accessKeyId, secretKey, expires, ...(sessionToken !== undefined && { sessionToken }) };
    const cookie = this.seal(claims);
    // Browsers drop a cookie over 4096 bytes without a word: say so instead (an STS token with a
    // long session policy can get there).
    if (cookie.length > MAX_SET_COOKIE_VALUE)
      throw new ConsoleError(
        400,
        'SessionTooLarge',
        'These credentials are too large for a browser session (an STS token with a long session policy): use credentials with a shorter session policy.',
      );
    return { session: { principal, expires, keys: keysOf(claims) }, cookie };
  }

  /** The session of a cookie value, its key resolved again now; undefined when it no longer stands. */
  async open(cookie: string | undefined): Promise<ConsoleSession | undefined> {
    if (cookie === undefined) return undefined;
    const claims = this.unseal(cookie);
    if (claims === undefined || claims.expires <= this.now()) return undefined;
    try {
      const principal = await this.resolve(claims.accessKeyId, claims.secretKey, claims.sessionToken);
      return { principal, expires: claims.expires, keys: keysOf(claims) };
    } catch (err) {
      if (err instanceof ConsoleError) return undefined;
      throw err;
    }
  }

  /** The key's principal through the credential source, its secret compared in constant time. */
  private async resolve(accessKeyId: string, secretKey: string, sessionToken: string | undefined): Promise<Principal> {
    let found: Awaited<ReturnType<CredentialSource>>;
    try {
      found = await this.credentials(accessKeyId, sessionToken);
    } catch (err) {
      if (err instanceof SessionTokenError) throw new ConsoleError(403, err.code, err.message);
      throw err;
    }
    if (found === undefined) throw new ConsoleError(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (!secretsEqual(found.secretKey, secretKey))
      throw new ConsoleError(403, 'SignatureDoesNotMatch', 'The secret access key you provided does not match the access key id.');
    return found.principal;
  }

  private seal(claims: Claims): string {
    const plain = JSON.stringify({
      v: VERSION,
      k: claims.accessKeyId,
      s: claims.secretKey,
      e: claims.expires,
      ...(claims.sessionToken && { t: claims.sessionToken }),
    });
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(AAD);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, c.getAuthTag()]).toString('base64url');
  }

  private unseal(cookie: string): Claims | undefined {
    if (cookie.length > MAX_COOKIE_CHARS || !/^[A-Za-z0-9_-]+$/.test(cookie)) return undefined;
    const raw = Buffer.from(cookie, 'base64url');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      d.setAAD(AAD);
      d.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([d.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), d.final()]);
      const f = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
      if (typeof f.k !== 'string' || typeof f.s !== 'string' || typeof f.e !== 'number') return undefined;
      if (f.t !== undefined && typeof f.t !== 'string') return undefined;
      return { accessKeyId: f.k, secretKey: f.s, expires: f.e, ...(typeof f.t === 'string' && { sessionToken: f.t }) };
    } catch {
      return undefined;
    }
  }
}

function keysOf(c: Claims): ConsoleSession['keys'] {
  return { accessKeyId: c.accessKeyId, secretKey: c.secretKey, ...(c.sessionToken !== undefined && { sessionToken: c.sessionToken }) };
}

/** The value of cookie `name` in a Cookie header (the first one). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie of a session (`maxAgeS` 0: clears it). */
export function sessionCookie(value: string, maxAgeS: number, secure: boolean): string {
  return `${COOKIE_NAME}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.max(0, Math.floor(maxAgeS))}${secure ? '; Secure' : ''}`;
}

/**
 * Failed logins, bounded: at most `limit` failures per client address and per access key within
 * `windowMs`; beyond that a login is refused (429 SlowDown) without checking the credentials. Per
 * process (each worker keeps its own: with N workers an attacker gets at most N × limit tries per
 * window, still a bound); a success clears the key's count.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether `ip` or `accessKeyId` has used up its failures. */
  blocked(ip: string, accessKeyId: string): boolean {
    return this.over(`ip:${ip}`) || this.over(`key:${accessKeyId}`);
  }

  failed(ip: string, accessKeyId: string): void {
    this.bump(`ip:${ip}`);
    this.bump(`key:${accessKeyId}`);
  }

  succeeded(accessKeyId: string): void {
    this.failures.delete(`key:${accessKeyId}`);
  }

  private over(id: string): boolean {
    const f = this.failures.get(id);
    if (f === undefined) return false;
    if (this.now() - f.since > this.windowMs) {
      this.failures.delete(id);
      return false;
    }
    return f.count >= this.limit;
  }

  private bump(id: string): void {
    const now = this.now();
    const f = this.failures.get(id);
    if (f === undefined || now - f.since > this.windowMs) {
      // Bounded memory: a flood of distinct addresses or keys starts the table over.
      if (this.failures.size > 10_000) this.failures.clear();
      this.failures.set(id, { count: 1, since: now });
    } else f.count++;
  }
}
