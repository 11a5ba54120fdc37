// The one authorization decision point: every request passes authorize() after authentication and
// after its bucket is loaded (docs/ARCHITECTURE.md, "Authorization"). Today's rule: the root
// principal may do everything, nobody else anything. Bucket policies, users and their policies,
// ACLs and Block Public Access plug in here, and nowhere else.
import type { Principal } from './principal.js';

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
}

export interface Decision {
  readonly allowed: boolean;
  /** Why: logged with the request (the access log's `authz` field), never sent to the client. */
  readonly reason: string;
}

const ALLOW_ROOT: Decision = Object.freeze({ allowed: true, reason: 'root principal' });
const DENY_ANONYMOUS: Decision = Object.freeze({ allowed: false, reason: 'anonymous access is not allowed' });
const DENY_UNKNOWN: Decision = Object.freeze({ allowed: false, reason: 'no policy allows this principal' });

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
 * May `principal` perform `action` on `resource`? Pure and synchronous (what it needs, such as the
 * bucket's owner, comes in `resource`; later a bucket policy too). The root principal is allowed
 * everything; anonymous and any other kind are denied (no policies exist yet to allow them).
 */
export function authorize(principal: Principal, action: S3Action, resource: Resource, conditions: ConditionContext = {}): Decision {
  void action;
  void resource;
  void conditions;
  switch (principal.kind) {
    case 'root':
      return ALLOW_ROOT;
    case 'anonymous':
      return DENY_ANONYMOUS;
    default:
      return DENY_UNKNOWN;
  }
}
