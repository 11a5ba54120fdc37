// The one authorization decision point: every request passes authorize() after authentication and
// after its bucket is loaded (docs/ARCHITECTURE.md, "Authorization"). The root principal may do
// everything; a user what its identity policies allow (its own and its groups', narrowed by its
// access key's inline policy: policy-evaluate.ts); anonymous callers nothing yet. Bucket policies,
// ACLs and Block Public Access plug in here, and nowhere else.
import type { Principal } from './principal.js';
import { evaluatePolicies } from './policy-evaluate.js';
import { conditionContext } from './policy-match.js';
import { type RequestPrincipal, STRATA_ACCOUNT_ID, principalArn, principalContextValues } from './policy.js';

/**
 * IAM actions as AWS's "Actions, resources, and condition keys for Amazon S3" names them (the ones
 * the implemented operations need; several operations map to one action).
 */
export type S3Action = `s3:${string}`;

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

export interface Decision {
  readonly allowed: boolean;
  /** Why: logged with the request (the access log's `authz` field), never sent to the client. */
  readonly reason: string;
}

const ALLOW_ROOT: Decision = Object.freeze({ allowed: true, reason: 'root principal' });
const DENY_ANONYMOUS: Decision = Object.freeze({ allowed: false, reason: 'anonymous access is not allowed' });
const DENY_UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no policy allows this principal' });

/** How policies see a principal (its ARN, name, id): docs/iam.md, "Principals and ARNs". */
export function requestPrincipalOf(p: Principal): RequestPrincipal {
  switch (p.kind) {
    case 'root':
      return { kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: p.userId };
    case 'user':
      return { kind: 'user', account: STRATA_ACCOUNT_ID, arn: principalArn('user', p.userName ?? ''), userId: p.userId, name: p.userName };
    default:
      return { kind: 'anonymous', account: '', arn: '', userId: p.userId };
  }
}

/** A user's request: its identity policies, narrowed by its key's, decide (explicit deny first). */
function authorizeUser(principal: Principal, action: S3Action, resource: Resource, conditions: ConditionContext): Decision {
  const who = requestPrincipalOf(principal);
  const context = conditionContext({
    ...principalContextValues(who),
    'aws:SecureTransport': conditions.secureTransport,
    'aws:SourceIp': conditions.sourceIp,
    'aws:CurrentTime': new Date().toISOString(),
    'aws:EpochTime': Math.floor(Date.now() / 1000),
    ...conditions.values,
  });
  const policies = principal.policies;
  const d = evaluatePolicies({ identity: policies?.identity ?? [], key: policies?.key }, { action, resource: resourceArn(resource), principal: who, context });
  return { allowed: d.allowed, reason: d.reason };
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
 * credential source per request; later a bucket policy). The root principal is allowed everything;
 * a user what its policies allow; anonymous callers nothing (no bucket policies or ACLs yet).
 */
export function authorize(principal: Principal, action: S3Action, resource: Resource, conditions: ConditionContext = {}): Decision {
  switch (principal.kind) {
    case 'root':
      return ALLOW_ROOT;
    case 'anonymous':
      return DENY_ANONYMOUS;
    case 'user':
      return authorizeUser(principal, action, resource, conditions);
    default:
      return DENY_UNKNOWN;
  }
}
