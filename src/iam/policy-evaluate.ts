// Policy evaluation as AWS documents it for one account: an explicit Deny in any policy wins; otherwise an
// Allow from an identity policy or the resource (bucket) policy allows, provided the narrowing policies
// (an access key's inline policy, a session policy) allow too; otherwise the implicit deny.
import type { CompiledPolicy, CompiledStatement, RequestPrincipal } from './policy.js';
import { conditionsHold } from './policy-conditions.js';
import type { ConditionValues } from './policy-match.js';

/** What is asked: may `principal` do `action` on `resource`, given the request's condition context? */
export interface PolicyRequest {
  /** `s3:GetObject`, `admin:CreateUser`… (any case: action names are case-insensitive). */
  readonly action: string;
  /** The resource ARN (`arn:aws:s3:::bucket/key`), or `*` for actions on no resource (ListAllMyBuckets). */
  readonly resource: string;
  readonly principal: RequestPrincipal;
  /** From conditionContext(): aws:SourceIp, aws:username, s3:prefix… Policy variables read it too. */
  readonly context: ConditionValues;
}

/** Every policy that bears on one request. */
export interface PolicySet {
  /** The user's attached policies and its groups' (or a role's). */
  readonly identity?: readonly CompiledPolicy[];
  /** The bucket's policy. */
  readonly resource?: CompiledPolicy;
  /** The access key's inline policy: it only narrows (MinIO's service accounts). */
  readonly key?: CompiledPolicy;
  /** An STS session policy: it only narrows. */
  readonly session?: CompiledPolicy;
  /** An ACL grant allows the request (a resource-based allow, like the bucket policy's). */
  readonly acl?: boolean;
}

export type PolicySource = 'identity' | 'resource' | 'key' | 'session';

/** The statement that decided, for logs only (never sent to the client). */
export interface DecidingStatement {
  readonly source: PolicySource;
  readonly policy: string;
  readonly index: number;
  readonly sid: string | undefined;
}

export interface PolicyDecision {
  readonly allowed: boolean;
  readonly decision: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  readonly statement?: DecidingStatement;
  /** One line for the access log. */
  readonly reason: string;
  /** An implicit deny because a narrowing policy (the key's, the session's) does not allow. */
  readonly narrowed?: boolean;
}

/** Does a statement apply to the request (action, resource, principal, conditions)? */
export function statementApplies(st: CompiledStatement, action: string, req: PolicyRequest): boolean {
  if (!st.actions.matches(action, req.context)) return false;
  if (req.resource === '*' ? !st.resources.matchesUnscoped() : !st.resources.matches(req.resource, req.context)) return false;
  if (st.principals !== undefined && !st.principals.matches(req.principal)) return false;
  return st.conditions.length === 0 || conditionsHold(st.conditions, req.context);
}

interface Scan {
  deny?: CompiledStatement;
  allow?: CompiledStatement;
}

/** The first Deny that applies (the scan stops there), else the first Allow. */
function scan(policy: CompiledPolicy, action: string, req: PolicyRequest): Scan {
  let allow: CompiledStatement | undefined;
  for (const st of policy.statements) {
    if (st.effect === 'Allow' && allow !== undefined) continue;
    if (!statementApplies(st, action, req)) continue;
    if (st.effect === 'Deny') return { deny: st };
    allow = st;
  }
  return { allow };
}

const deciding = (source: PolicySource, policy: CompiledPolicy, st: CompiledStatement): DecidingStatement => ({
  source,
  policy: policy.name,
  index: st.index,
  sid: st.sid,
});

const describe = (d: DecidingStatement, st: CompiledStatement): string => `${d.source} ${st.label}`;

/**
 * Evaluates a request against its policies. Identity, key and session policies are ignored for the
 * anonymous principal (it has none); the resource policy applies to whoever its Principal names.
 */
export function evaluatePolicies(set: PolicySet, req: PolicyRequest): PolicyDecision {
  const action = req.action.toLowerCase();
  const anonymous = req.principal.kind === 'anonymous';
  let identityAllow: DecidingStatement | undefined;
  let resourceAllow: DecidingStatement | undefined;
  let allowStatement: CompiledStatement | undefined;
  let keyAllow = set.key === undefined || anonymous;
  let sessionAllow = set.session === undefined || anonymous;

  const sources: Array<[PolicySource, CompiledPolicy]> = [];
  if (!anonymous) for (const p of set.identity ?? []) sources.push(['identity', p]);
  if (set.resource) sources.push(['resource', set.resource]);
  if (!anonymous && set.key) sources.push(['key', set.key]);
  if (!anonymous && set.session) sources.push(['session', set.session]);

  for (const [source, policy] of sources) {
    const found = scan(policy, action, req);
    if (found.deny) {
      const statement = deciding(source, policy, found.deny);
      return { allowed: false, decision: 'ExplicitDeny', statement, reason: `explicit deny: ${describe(statement, found.deny)}` };
    }
    if (!found.allow) continue;
    if (source === 'identity') {
      if (identityAllow === undefined) {
        identityAllow = deciding(source, policy, found.allow);
        allowStatement = found.allow;
      }
    } else if (source === 'resource') {
      resourceAllow = deciding(source, policy, found.allow);
      allowStatement ??= found.allow;
    } else if (source === 'key') keyAllow = true;
    else sessionAllow = true;
  }
  const allow = identityAllow ?? resourceAllow;
  if (allow === undefined && set.acl !== true) return { allowed: false, decision: 'ImplicitDeny', reason: 'implicit deny: no statement allows' };
  if (!keyAllow) return { allowed: false, decision: 'ImplicitDeny', narrowed: true, reason: "implicit deny: the access key's policy does not allow" };
  if (!sessionAllow) return { allowed: false, decision: 'ImplicitDeny', narrowed: true, reason: 'implicit deny: the session policy does not allow' };
  if (allow === undefined) return { allowed: true, decision: 'Allow', reason: 'allowed: an ACL grant' };
  return { allowed: true, decision: 'Allow', statement: allow, reason: `allowed: ${describe(allow, allowStatement!)}` };
}
