// The one authorization decision point: every request passes authorize() after authentication and
// after its bucket is loaded (docs/ARCHITECTURE.md, "Authorization"). The root principal may do
// everything; a user what its identity policies allow (its own and its groups', narrowed by its
// access key's inline policy: policy-evaluate.ts) together with the bucket's policy and ACLs; an
// anonymous caller what the bucket's policy or ACLs grant everyone. The bucket's side comes in as a
// BucketAccess (s3/bucket-access.ts loads it), already filtered by Block Public Access.
import type { Principal } from './principal.js';
import type { CompiledPolicy } from './policy.js';
import { evaluatePolicies, type PolicyRequest, type PolicySet, type PolicySource, statementApplies } from './policy-evaluate.js';
import { type ConditionValues, conditionContext } from './policy-match.js';
import { type RequestPrincipal, STRATA_ACCOUNT_ID, principalArn, principalContextValues } from './policy.js';
import { sessionPrincipal } from './roles.js';

/**
 * IAM actions as AWS's "Actions, resources, and condition keys for Amazon S3" names them (the ones
 * the implemented operations need; several operations map to one action).
 */
export type S3Action = `s3:${string}`;

/** The admin API's actions (admin:CreateUser…: src/admin/operations.ts), asked on the service resource. */
export type AdminAction = `admin:${string}`;

/** The key service's actions (kms:CreateKey…, kms:GenerateDataKey…), asked on a key's ARN (src/kms/arn.ts) or `*`. */
export type KmsAction = `kms:${string}`;

/** What an action acts on: the service (ListBuckets), a bucket, or an object in a bucket. */
export type ResourceKind = 'service' | 'bucket' | 'object';

export type Resource =
  | { readonly kind: 'service' }
  | { readonly kind: 'bucket'; readonly bucket: string /** The bucket's owner (user id); undefined when it does not exist (yet). */; readonly owner?: string }
  | { readonly kind: 'object'; readonly bucket: string; readonly key: string; readonly owner?: string; readonly versionId?: string };

/** The request facts policy conditions can test (aws:SecureTransport, aws:SourceIp, s3:prefix…). */
export interface ConditionContext {
  readonly secureTransport?: boolean;
  readonly sourceIp?: string;
  /** The operation, for logs and error details. */
  readonly operation?: string;
  /**
   * The request's other condition keys, by their policy names (aws:UserAgent, aws:Referer,
   * s3:prefix, s3:max-keys, s3:VersionId, s3:x-amz-acl, s3:authType…): see s3/access.ts.
   */
  readonly values?: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;
}

/**
 * What the bucket says about a request, beside the principal's own policies: its bucket policy and
 * whether an ACL grant allows. Loaded per request for every principal but root (s3/bucket-access.ts),
 * with Block Public Access already applied (a public policy RestrictPublicBuckets ignores is left
 * out; public ACL grants IgnorePublicAcls ignores are not counted).
 */
export interface BucketAccess {
  /** The bucket's policy, compiled (undefined: none, or ignored). */
  readonly policy?: CompiledPolicy;
  /**
   * Does an ACL grant (the bucket's, or for object actions the object's) allow `action` to the
   * principal? Asked only when no policy allows or denies (an implicit deny); async because an
   * object's ACL is read from its record. Undefined when the bucket has ACLs disabled
   * (BucketOwnerEnforced): then no ACL grants anything.
   */
  readonly acl?: (principal: Principal, action: S3Action, resource: Resource) => boolean | Promise<boolean>;
}

/** No bucket policy, no ACLs: what authorize() assumes when it is given no BucketAccess. */
export const NO_BUCKET_ACCESS: BucketAccess = Object.freeze({});

export interface Decision {
  readonly allowed: boolean;
  /** Why: logged with the request (the access log's `authz` field), never sent to the client. */
  readonly reason: string;
  /**
   * No statement allowed or denied (an implicit deny): an ACL grant may still allow, with
   * authorize(…, { aclAllows: true }) (checkAccess does it: s3/access.ts).
   */
  readonly implicit?: boolean;
}

const ALLOW_ROOT: Decision = Object.freeze({ allowed: true, reason: 'root principal' });
const DENY_UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no policy allows this principal' });

/** How policies see a principal (its ARN, name, id): docs/iam.md, "Principals and ARNs". */
export function requestPrincipalOf(p: Principal): RequestPrincipal {
  switch (p.kind) {
    case 'root':
      return { kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: p.userId };
    case 'user':
      if (p.session) return sessionPrincipal(p.session);
      return { kind: 'user', account: STRATA_ACCOUNT_ID, arn: principalArn('user', p.userName ?? ''), userId: p.userId, name: p.userName };
    default:
      return { kind: 'anonymous', account: '', arn: '', userId: p.userId };
  }
}

/** requestPrincipalOf, once per principal object (a user's is cached by the credential source). */
const REQUEST_PRINCIPALS = new WeakMap<Principal, RequestPrincipal>();
function requestPrincipalCached(p: Principal): RequestPrincipal {
  let who = REQUEST_PRINCIPALS.get(p);
  if (who === undefined) REQUEST_PRINCIPALS.set(p, (who = requestPrincipalOf(p)));
  return who;
}

/** Condition values built by `build` when first read. */
function lazyContext(build: () => ConditionValues): ConditionValues {
  let built: ConditionValues | undefined;
  return { get: (key) => (built ??= build()).get(key) };
}

/**
 * A user's or an anonymous caller's request: the identity policies (a user's, narrowed by its key's
 * and its session's) and the bucket's policy decide (explicit deny first); an ACL grant counts as the
 * bucket's allow when the caller already found one (`aclAllows`).
 */
function evaluate(
  principal: Principal,
  action: S3Action | AdminAction | KmsAction,
  arn: string,
  conditions: ConditionContext,
  access: BucketAccess,
  aclAllows: boolean,
): Decision {
  const [set, req] = policyInputs(principal, action, arn, conditions, access, aclAllows);
  const d = evaluatePolicies(set, req);
  return d.decision === 'ImplicitDeny' && !aclAllows && d.narrowed !== true
    ? { allowed: false, reason: d.reason, implicit: true }
    : { allowed: d.allowed, reason: d.reason };
}

/** What the evaluator is given for one request: the principal's and the bucket's policies, and the request. */
function policyInputs(
  principal: Principal,
  action: string,
  arn: string,
  conditions: ConditionContext,
  access: BucketAccess,
  aclAllows: boolean,
): [PolicySet, PolicyRequest] {
  const who = requestPrincipalCached(principal);
  // Built on the first read only: most statements test no condition key and name no variable.
  const context = lazyContext(() =>
    conditionContext({
      ...principalContextValues(who),
      'aws:SecureTransport': conditions.secureTransport,
      'aws:SourceIp': conditions.sourceIp,
      'aws:CurrentTime': new Date().toISOString(),
      'aws:EpochTime': Math.floor(Date.now() / 1000),
      ...conditions.values,
    }),
  );
  const policies = principal.policies;
  return [
    { identity: policies?.identity ?? [], key: policies?.key, session: policies?.session, resource: access.policy, acl: aclAllows },
    { action, resource: arn, principal: who, context },
  ];
}

/** One statement that applies to an explained request. */
export interface MatchedStatement {
  readonly policy: string;
  readonly source: PolicySource;
  readonly statementSid?: string;
  readonly effect: 'Allow' | 'Deny';
}

/**
 * authorize()'s decision with its reasons, for a person (the console's effective-rights view):
 * the same evaluation (policyInputs, evaluatePolicies), and every statement that applies to the
 * request, in the order the evaluator reads them. `aclAllows`: as authorize's option.
 */
export function explainAuthorization(...args: Parameters<typeof authorize>): { decision: Decision; explicitDeny: boolean; matched: MatchedStatement[] } {
  const [principal, action, resource, conditions = {}, access = NO_BUCKET_ACCESS, options = {}] = args;
  const decision = authorize(...args);
  if (principal.kind === 'root') return { decision, explicitDeny: false, matched: [] };
  const [set, req] = policyInputs(principal, action, resourceArn(resource), conditions, access, options.aclAllows === true);
  const anonymous = principal.kind === 'anonymous';
  const sources: Array<[PolicySource, CompiledPolicy | undefined]> = [
    ...(anonymous ? [] : (set.identity ?? []).map((p): [PolicySource, CompiledPolicy] => ['identity', p])),
    ['resource', set.resource],
    ...(anonymous
      ? []
      : ([
          ['key', set.key],
          ['session', set.session],
        ] as Array<[PolicySource, CompiledPolicy | undefined]>)),
  ];
  const matched: MatchedStatement[] = [];
  const act = action.toLowerCase();
  for (const [source, policy] of sources) {
    for (const st of policy?.statements ?? []) {
      if (!statementApplies(st, act, req)) continue;
      matched.push({ policy: policy!.name, source, ...(st.sid !== undefined && { statementSid: st.sid }), effect: st.effect });
    }
  }
  return { decision, explicitDeny: evaluatePolicies(set, req).decision === 'ExplicitDeny', matched };
}

/** The ARN of a resource (arn:aws:s3:::bucket, arn:aws:s3:::bucket/key, * for the service). */
export function resourceArn(resource: Resource): string {
  switch (resource.kind) {
    case 'service':
      return '*';
    case 'bucket':
      return `arn:aws:s3:::${resource.bucket}`;
    case 'object':
      return `arn:aws:s3:::${resource.bucket}/${resource.key}`;
  }
}

/**
 * May `principal` perform `action` on `resource`? Pure and synchronous: what it needs comes in
 * (the bucket's owner in `resource`; a user's compiled policies on the principal, resolved by the
 * credential source per request; the bucket's policy in `access`). The root principal is allowed
 * everything; a user what its policies and the bucket's allow; an anonymous caller what the
 * bucket's policy allows. `options.aclAllows`: an ACL grant allows (the caller asked access.acl
 * after an implicit deny).
 */
export function authorize(
  principal: Principal,
  action: S3Action | AdminAction,
  resource: Resource,
  conditions: ConditionContext = {},
  access: BucketAccess = NO_BUCKET_ACCESS,
  options: { aclAllows?: boolean } = {},
): Decision {
  switch (principal.kind) {
    case 'root':
      return ALLOW_ROOT;
    case 'anonymous':
    case 'user':
      return evaluate(principal, action, resourceArn(resource), conditions, access, options.aclAllows === true);
    default:
      return DENY_UNKNOWN;
  }
}

/**
 * May `principal` perform kms `action` on the key named by `keyArn` (`*` for the actions on no key:
 * kms:ListKeys, kms:CreateKey)? Root always; a user what its identity policies allow (no bucket side).
 */
export function authorizeKms(principal: Principal, action: KmsAction, keyArn: string, conditions: ConditionContext = {}): Decision {
  switch (principal.kind) {
    case 'root':
      return ALLOW_ROOT;
    case 'anonymous':
    case 'user':
      return evaluate(principal, action, keyArn, conditions, NO_BUCKET_ACCESS, false);
    default:
      return DENY_UNKNOWN;
  }
}
