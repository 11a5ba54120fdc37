// Roles as STS sees them (docs/iam.md, "Roles and STS"): their ARNs and ids, the principal of a
// session, and who may assume a role — AWS's same-account rule: a trust policy naming the caller (or
// `*`) admits it unless a policy denies; a trust policy naming only the account root admits a caller
// whose identity policies allow `sts:AssumeRole` on the role's ARN. Pure: the STS endpoint (src/sts/)
// reads the role and the caller's policies and asks here.
import { conditionContext } from './policy-match.js';
import { evaluatePolicies, type PolicySet } from './policy-evaluate.js';
import {
  type CompiledPolicy,
  type ParseResult,
  parsePolicy,
  principalArn,
  principalContextValues,
  type RequestPrincipal,
  STRATA_ACCOUNT_ID,
} from './policy.js';
import { randomId, type SessionInfo } from './sessions.js';

/** `arn:aws:iam::000000000000:role/NAME`. */
export const roleArn = (name: string): string => principalArn('role', name);

/** `arn:aws:sts::000000000000:assumed-role/ROLE/SESSION`: a session's ARN. */
export const assumedRoleArn = (role: string, session: string): string => `arn:aws:sts::${STRATA_ACCOUNT_ID}:assumed-role/${role}/${session}`;

/** A new role id: `AROA` + 17 characters (AWS's shape); sessions' aws:userid is `ROLEID:SESSION`. */
export const newRoleId = (): string => randomId('AROA', 17);

/** How policies see a session: kind assumed-role, its ARN, the role's ARN, aws:userid `ROLEID:SESSION`. */
export function sessionPrincipal(s: SessionInfo): RequestPrincipal {
  return {
    kind: 'assumed-role',
    account: STRATA_ACCOUNT_ID,
    arn: assumedRoleArn(s.roleName, s.sessionName),
    roleArn: roleArn(s.roleName),
    userId: `${s.roleId}:${s.sessionName}`,
    name: s.sessionName,
  };
}

/** A trust policy: Principal required, no Resource, only `sts:` actions (MalformedPolicyDocument otherwise). */
export function parseTrustPolicy(document: string | unknown, role = 'role'): ParseResult {
  return parsePolicy(document, { kind: 'trust', name: `trust policy of ${role}` });
}

/** The facts of an AssumeRole request that conditions may test. */
export interface AssumeFacts {
  readonly sourceIp?: string;
  readonly secureTransport?: boolean;
  readonly now: number;
  /** AssumeRole's own condition keys: `sts:ExternalId`, `sts:RoleSessionName`. */
  readonly values?: Readonly<Record<string, string | undefined>>;
}

const ACCOUNT_ROOT: RequestPrincipal = Object.freeze({ kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: 'root' });

/**
 * May `caller` assume the role whose trust policy is `trust`? `policies`: the caller's identity
 * policies (and its key's or session's narrowing ones); `root`: the caller is the account's root,
 * whose identity allows everything. Returns the reason for the log either way.
 */
export function mayAssume(
  caller: RequestPrincipal,
  policies: Omit<PolicySet, 'resource' | 'acl'>,
  root: boolean,
  trust: CompiledPolicy,
  arn: string,
  facts: AssumeFacts,
): { allowed: boolean; reason: string } {
  const context = conditionContext({
    ...principalContextValues(caller),
    'aws:SourceIp': facts.sourceIp,
    'aws:SecureTransport': facts.secureTransport,
    'aws:CurrentTime': new Date(facts.now).toISOString(),
    'aws:EpochTime': Math.floor(facts.now / 1000),
    ...facts.values,
  });
  const request = { action: 'sts:AssumeRole', resource: arn, principal: caller, context };
  const direct = evaluatePolicies({ resource: trust }, request);
  if (direct.decision === 'ExplicitDeny') return { allowed: false, reason: `trust policy: ${direct.reason}` };
  const identity = root ? undefined : evaluatePolicies(policies, request);
  if (identity?.decision === 'ExplicitDeny') return { allowed: false, reason: identity.reason };
  if (identity?.narrowed === true) return { allowed: false, reason: identity.reason };
  if (direct.allowed) return { allowed: true, reason: `trust policy names the caller: ${direct.reason}` };
  // The trust policy may name the account (its root) rather than the caller: then the caller's own
  // policies must allow sts:AssumeRole on the role.
  const account = evaluatePolicies({ resource: trust }, { ...request, principal: ACCOUNT_ROOT });
  if (!account.allowed) return { allowed: false, reason: 'the trust policy does not admit the caller' };
  if (root || identity?.allowed === true) return { allowed: true, reason: 'the trust policy admits the account; the identity policies allow sts:AssumeRole' };
  return { allowed: false, reason: 'the trust policy admits the account, but no identity policy allows sts:AssumeRole on the role' };
}
