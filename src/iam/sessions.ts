// STS sessions: the temporary credentials AssumeRole hands out (src/sts/). Nothing is stored: the
// session token is self-contained and sealed (AES-256-GCM under a key HKDF-derived from the server's
// secret-box key, so every process on the data directory opens it and a changed master key voids
// it). It carries the role (name and id), the session name, the expiry, the session policy and the
// secret key; the access key id (`ASIA…`) is bound to it as associated data, so a token works only
// with its own key. Each request opens the token and reads the role (one primary-key read): a
// deleted role, or one deleted and made again under the same name, ends its sessions at once.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { IdentityStore } from '../store/identities.js';
import type { Principal, StoredCredentials } from './principal.js';
import type { CompiledPolicy } from './policy.js';
import type { SecretBox } from './secret-box.js';

const PURPOSE = 'strata sts session token v1';
const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Tokens longer than this are not ours (a session policy is at most 2048 characters). */
const MAX_TOKEN_CHARS = 8192;

/** Why a session token does not authenticate: S3 answers ExpiredToken / InvalidToken (400), STS its own codes. */
export class SessionTokenError extends Error {
  constructor(readonly code: 'ExpiredToken' | 'InvalidToken') {
    super(code === 'ExpiredToken' ? 'The provided token has expired.' : 'The provided token is malformed or otherwise invalid.');
    this.name = 'SessionTokenError';
  }
}

/** What a session token carries (sealed). */
export interface SessionClaims {
  readonly roleName: string;
  readonly roleId: string;
  readonly sessionName: string;
  /** ms since the epoch. */
  readonly expires: number;
  /** The session policy (JSON text) given to AssumeRole: it only narrows the role's policies. */
  readonly policy?: string;
  readonly secretKey: string;
}

/** A session as a principal carries it (kind 'user' with `session`: see authorize.ts's requestPrincipalOf). */
export interface SessionInfo {
  readonly roleName: string;
  readonly roleId: string;
  readonly sessionName: string;
  readonly expires: number;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** `prefix` + n characters of A–Z2–7 (32 divides 256: every character equally likely). */
export function randomId(prefix: string, n: number): string {
  let out = prefix;
  for (const b of randomBytes(n)) out += BASE32[b & 31];
  return out;
}

/** A new temporary access key id (`ASIA` + 16, AWS's shape) and secret (40 characters of base64's alphabet). */
export function newSessionKeys(): { accessKeyId: string; secretKey: string } {
  return { accessKeyId: randomId('ASIA', 16), secretKey: randomBytes(30).toString('base64') };
}

/** Seals and opens session tokens. */
export class SessionTokens {
  private readonly key: Buffer;

  constructor(box: SecretBox) {
    this.key = box.derive(PURPOSE);
  }

  seal(accessKeyId: string, claims: SessionClaims): string {
    const plain = JSON.stringify({
      v: VERSION,
      r: claims.roleName,
      i: claims.roleId,
      s: claims.sessionName,
      e: claims.expires,
      k: claims.secretKey,
      ...(claims.policy !== undefined && { p: claims.policy }),
    });
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(accessKeyId, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, body, c.getAuthTag()]).toString('base64');
  }

  /** The claims of a token sealed for `accessKeyId`; SessionTokenError when altered, foreign or expired. */
  open(accessKeyId: string, token: string, now: number): SessionClaims {
    if (token.length > MAX_TOKEN_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) throw new SessionTokenError('InvalidToken');
    const raw = Buffer.from(token, 'base64');
    if (raw.length < 1 + IV_BYTES + TAG_BYTES + 2 || raw[0] !== VERSION) throw new SessionTokenError('InvalidToken');
    let fields: Record<string, unknown>;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(1, 1 + IV_BYTES));
      d.setAAD(Buffer.from(accessKeyId, 'utf8'));
      d.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      const plain = Buffer.concat([d.update(raw.subarray(1 + IV_BYTES, raw.length - TAG_BYTES)), d.final()]);
      fields = JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new SessionTokenError('InvalidToken');
    }
    const { r, i, s, e, k, p } = fields;
    if (typeof r !== 'string' || typeof i !== 'string' || typeof s !== 'string' || typeof e !== 'number' || typeof k !== 'string')
      throw new SessionTokenError('InvalidToken');
    if (e <= now) throw new SessionTokenError('ExpiredToken');
    return { roleName: r, roleId: i, sessionName: s, expires: e, secretKey: k, ...(typeof p === 'string' && { policy: p }) };
  }
}

/** The documents of the managed policies attached to a role (JSON text, by policy name). */
export function rolePolicies(identities: Pick<IdentityStore, 'attachedPolicies' | 'getPolicy'>, roleName: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of identities.attachedPolicies({ role: roleName })) {
    const p = identities.getPolicy(name);
    if (p) out.set(name, p.document);
  }
  return out;
}

export interface SessionCredentialsOptions {
  identities: Pick<IdentityStore, 'getRole' | 'attachedPolicies' | 'getPolicy'>;
  tokens: SessionTokens;
  now?: () => number;
}

/**
 * Resolves a temporary key and its token, as the credential source's hook (credentials.ts) calls it,
 * with the source's compiler of managed policies (a stored document compiled once; unreadable → deny all).
 */
export type SessionResolver = (
  accessKeyId: string,
  sessionToken: string,
  compile: (name: string, document: string) => CompiledPolicy,
) => Promise<StoredCredentials>;

/**
 * The principal of a session: kind 'user' with `session` (its ARN is the assumed-role ARN), the
 * role's attached policies as identity policies, the session policy as the narrowing `session` one.
 * Throws SessionTokenError (a foreign, altered or expired token; a role that is gone).
 */
export function sessionCredentials(opts: SessionCredentialsOptions): SessionResolver {
  const now = opts.now ?? Date.now;
  return (accessKeyId, sessionToken, compiled) => {
    try {
      const claims = opts.tokens.open(accessKeyId, sessionToken, now());
      const role = opts.identities.getRole(claims.roleName);
      if (role === undefined || role.roleId !== claims.roleId) throw new SessionTokenError('InvalidToken');
      const identity = [...rolePolicies(opts.identities, role.name)].map(([name, doc]) => compiled(name, doc));
      const session: SessionInfo = { roleName: role.name, roleId: role.roleId, sessionName: claims.sessionName, expires: claims.expires };
      const principal: Principal = {
        accessKeyId,
        userId: role.roleId,
        kind: 'user',
        session,
        policies: { identity, ...(claims.policy !== undefined && { session: compiled(`session policy of ${claims.sessionName}`, claims.policy) }) },
      };
      return Promise.resolve({ principal, secretKey: claims.secretKey });
    } catch (err) {
      return Promise.reject(err);
    }
  };
}
