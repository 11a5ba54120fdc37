// What logs and the audit log say about who made a request: kind, access key id, user or role
// session, ARN. Never the secret, the key's policy or an STS session token (docs/audit.md).
import type { Principal, PrincipalKind } from './principal.js';
import { principalArn } from './policy.js';
import { assumedRoleArn } from './roles.js';

export interface PrincipalSummary {
  readonly kind: PrincipalKind;
  /** The access key id the request was signed with (absent for an anonymous caller). */
  readonly accessKey?: string;
  /** A stored user's name. */
  readonly user?: string;
  /** An STS session: the role it assumed and the session's name. */
  readonly role?: string;
  readonly session?: string;
  /** `arn:aws:iam::<account>:root`, `…:user/NAME`, or `arn:aws:sts::<account>:assumed-role/ROLE/SESSION`. */
  readonly arn?: string;
}

const ANONYMOUS_SUMMARY: PrincipalSummary = Object.freeze({ kind: 'anonymous' });

/** Summaries of the principals seen: the credential source hands out the same principal object per key (and per generation). */
const summaries = new WeakMap<Principal, PrincipalSummary>();

/** The summary of `p` (frozen, made once per principal object). */
export function principalSummary(p: Principal): PrincipalSummary {
  if (p.kind === 'anonymous') return ANONYMOUS_SUMMARY;
  let s = summaries.get(p);
  if (s === undefined) {
    s = Object.freeze(summarise(p));
    summaries.set(p, s);
  }
  return s;
}

function summarise(p: Principal): PrincipalSummary {
  const arn =
    p.kind === 'root'
      ? principalArn('root', '')
      : p.session
        ? assumedRoleArn(p.session.roleName, p.session.sessionName)
        : principalArn('user', p.userName ?? '');
  return {
    kind: p.kind,
    accessKey: p.accessKeyId,
    ...(p.userName && { user: p.userName }),
    ...(p.session && { role: p.session.roleName, session: p.session.sessionName }),
    arn,
  };
}
