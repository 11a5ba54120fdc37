// How the S3 layer asks the one decision point (iam/authorize.ts): the pipeline's authorize stage,
// the PostObject handler after the form's signature, and the copy source of CopyObject and
// UploadPartCopy all call checkAccess, which throws AccessDenied and records why for the access log.
import type { TLSSocket } from 'node:tls';
import type { BucketAccess, ConditionContext, Decision, KmsAction, Resource, S3Action } from '../iam/authorize.js';
import { NO_BUCKET_ACCESS, authorize, authorizeKms } from '../iam/authorize.js';
import { keyIdOf, kmsKeyArn } from '../kms/arn.js';
import type { Principal } from '../iam/principal.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';
import type { Tag } from '../store/types.js';
import { existingTags, headerTags, policiesTest, tagValues, takesExistingTags, takesRequestTags } from './tag-conditions.js';

/** A refusal by the authorize stage, as the access log shows it (field `denied`). */
export interface Denial {
  by: 'authorize';
  action: S3Action | KmsAction;
  /** 'key': a master key of the key service (SSE-KMS: checkKeyAccess). */
  resource: Resource['kind'] | 'key';
  principal: string;
  reason: string;
}

/** Where checkAccess leaves its refusal for the access log (set only when a request is denied). */
const DENIALS = new WeakMap<RequestContext, Denial>();

export function denialOf(ctx: RequestContext | undefined): Denial | undefined {
  return ctx === undefined ? undefined : DENIALS.get(ctx);
}

/** Listing operations: their query parameters are the s3:prefix / s3:delimiter / s3:max-keys condition keys. */
const LISTINGS = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads']);

/** How the request was signed, as s3:authType and s3:signatureversion name it. */
function signing(ctx: RequestContext): { authType?: string; version?: string } {
  const auth = ctx.headers.authorization;
  if (typeof auth === 'string') return { authType: 'REST-HEADER', version: auth.startsWith('AWS4-') ? 'AWS4-HMAC-SHA256' : 'AWS' };
  if (ctx.query.has('X-Amz-Signature')) return { authType: 'REST-QUERY-STRING', version: 'AWS4-HMAC-SHA256' };
  if (ctx.query.has('Signature')) return { authType: 'REST-QUERY-STRING', version: 'AWS' };
  if (ctx.op === 'PostObject') return { authType: 'POST' };
  return {};
}

/** The request's condition keys: built only when a policy reads one (RequestConditions). */
function conditionValuesOf(ctx: RequestContext): ConditionContext['values'] {
  const h = (name: string): string | undefined => {
    const v = ctx.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const listing = LISTINGS.has(ctx.op);
  const sig = signing(ctx);
  return {
    'aws:UserAgent': h('user-agent'),
    'aws:Referer': h('referer'),
    's3:prefix': listing ? (ctx.query.get('prefix') ?? '') : undefined,
    's3:delimiter': listing ? ctx.query.get('delimiter') : undefined,
    's3:max-keys': listing ? ctx.query.get('max-keys') : undefined,
    's3:VersionId': ctx.query.get('versionId'),
    's3:x-amz-acl': h('x-amz-acl'),
    's3:x-amz-server-side-encryption': h('x-amz-server-side-encryption'),
    's3:x-amz-server-side-encryption-aws-kms-key-id': kmsKeyCondition(ctx, h('x-amz-server-side-encryption-aws-kms-key-id')),
    's3:x-amz-content-sha256': h('x-amz-content-sha256'),
    's3:authType': sig.authType,
    's3:signatureversion': sig.version,
  };
}

/** s3:x-amz-server-side-encryption-aws-kms-key-id: the key as its ARN (policies name keys by ARN), whichever form the request gave. */
function kmsKeyCondition(ctx: RequestContext, ref: string | undefined): string | undefined {
  if (ref === undefined) return undefined;
  const id = keyIdOf(ref);
  return id === undefined ? ref : kmsKeyArn(id, ctx.config.region);
}

/** The request's ConditionContext, each part computed when first read (most policies read none). */
class RequestConditions implements ConditionContext {
  private cachedValues: ConditionContext['values'];
  constructor(private readonly ctx: RequestContext) {}
  get operation(): string {
    return this.ctx.op;
  }
  get secureTransport(): boolean {
    return (this.ctx.req.socket as TLSSocket | undefined)?.encrypted === true;
  }
  get sourceIp(): string | undefined {
    return this.ctx.req.socket?.remoteAddress;
  }
  get values(): ConditionContext['values'] {
    this.cachedValues ??= conditionValuesOf(this.ctx);
    return this.cachedValues;
  }
}

/** What a caller already knows beside the request, for the object-tag condition keys (tag-conditions.ts). */
export interface AccessFacts {
  /** The object's current tags (s3:ExistingObjectTag/…), when the caller has read its record: no second read. */
  readonly existingTags?: readonly Tag[] | undefined;
  /** The tags the request asks for (s3:RequestObjectTag/…) when they are not in x-amz-tagging: a POST form's, PutObjectTagging's body. */
  readonly requestTags?: readonly Tag[];
}

/** The resource's bucket's policy and ACLs: `access`, or the request's own bucket's (ctx.bucketAccess). */
function accessOf(ctx: RequestContext, resource: Resource, access: BucketAccess | undefined): BucketAccess {
  return access ?? (resource.kind !== 'service' && resource.bucket === ctx.bucket ? ctx.bucketAccess : undefined) ?? NO_BUCKET_ACCESS;
}

/**
 * The condition context of each action: the request's keys, plus the object's current tags for the
 * actions that take s3:ExistingObjectTag (read only when a policy tests them) and the requested tags
 * for those that take s3:RequestObjectTag.
 */
async function conditionsFor(
  ctx: RequestContext,
  actions: readonly S3Action[],
  resource: Resource,
  access: BucketAccess,
  facts: AccessFacts,
): Promise<(action: S3Action) => ConditionContext> {
  const base: ConditionContext = new RequestConditions(ctx);
  let existing: Record<string, string | readonly string[]> | undefined;
  if (resource.kind === 'object' && actions.some(takesExistingTags) && policiesTest(ctx.principal, access, 'existing')) {
    existing = tagValues('existing', 'existingTags' in facts ? facts.existingTags : await existingTags(ctx, resource));
  }
  let request: Record<string, string | readonly string[]> | undefined;
  if (actions.some(takesRequestTags)) request = tagValues('request', facts.requestTags ?? headerTags(ctx));
  if (existing === undefined && request === undefined) return () => base;
  return (action) => {
    const e = existing !== undefined && takesExistingTags(action) ? existing : undefined;
    const r = request !== undefined && takesRequestTags(action) ? request : undefined;
    // (RequestConditions' parts are getters: copied by name, not by spreading.)
    return e === undefined && r === undefined
      ? base
      : { secureTransport: base.secureTransport, sourceIp: base.sourceIp, operation: base.operation, values: { ...base.values, ...e, ...r } };
  };
}

/** One action's decision: the policies, then (after an implicit deny) an ACL grant. */
function decide(ctx: RequestContext, action: S3Action, resource: Resource, access: BucketAccess, conditions: ConditionContext): Promise<Decision> {
  return decideFor(ctx.principal, action, resource, access, conditions);
}

/**
 * The decision for `principal` outside a request of its own (the console's presign and zip
 * endpoints ask what S3 will decide): the policies, then (after an implicit deny) an ACL grant.
 */
export async function decideFor(
  principal: Principal,
  action: S3Action,
  resource: Resource,
  access: BucketAccess,
  conditions: ConditionContext,
): Promise<Decision> {
  const decision = authorize(principal, action, resource, conditions, access);
  // No policy decided: an ACL grant (the bucket's, or the object's) may still allow.
  if (!decision.allowed && decision.implicit === true && access.acl !== undefined && (await access.acl(principal, action, resource))) {
    return authorize(principal, action, resource, conditions, access, { aclAllows: true });
  }
  return decision;
}

/** A check PutObjectTagging's handler completes once its body gives the requested tags (checkDeferredAccess). */
const DEFERRED = new WeakMap<RequestContext, { actions: readonly S3Action[]; resource: Resource; access: BucketAccess | undefined }>();

/**
 * Rejects with AccessDenied unless ctx.principal may perform every one of `actions` on `resource`
 * (never throws: undefined when allowed without waiting for anything, else a promise).
 * `access`: the resource's bucket's policy and ACLs (s3/bucket-access.ts); by default the request's
 * own bucket's (`ctx.bucketAccess`, loaded by the pipeline for every principal but root).
 * `facts`: tags the caller already has (AccessFacts).
 */
export function checkAccess(
  ctx: RequestContext,
  actions: readonly S3Action[],
  resource: Resource,
  access?: BucketAccess,
  facts: AccessFacts = {},
): Promise<void> | undefined {
  const principal = ctx.principal;
  // The root principal is allowed outright: no condition keys, no bucket access are built for it.
  if (principal.kind === 'root') return undefined;
  const bucketAccess = accessOf(ctx, resource, access);
  // PutObjectTagging's requested tags are its body, read after the authorize stage: when a policy
  // tests them, the decision waits for the handler, which completes it with the parsed tags.
  if (ctx.op === 'PutObjectTagging' && facts.requestTags === undefined && actions.some(takesRequestTags) && policiesTest(principal, bucketAccess, 'request')) {
    DEFERRED.set(ctx, { actions, resource, access });
    return undefined;
  }
  // The common case, decided without a turn of the event loop (this is on every non-root request's
  // path): no tag condition keys to read, and every action allowed or explicitly denied by policy.
  const existingTagsTested = resource.kind === 'object' && actions.some(takesExistingTags) && policiesTest(principal, bucketAccess, 'existing');
  if (!existingTagsTested && !(actions.some(takesRequestTags) && policiesTest(principal, bucketAccess, 'request'))) {
    const conditions = new RequestConditions(ctx);
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      const decision = authorize(principal, action, resource, conditions, bucketAccess);
      if (decision.allowed) continue;
      // An implicit deny an ACL grant may lift: the ACL is read asynchronously (the rest goes too).
      if (decision.implicit === true && bucketAccess.acl !== undefined) return checkEach(ctx, actions.slice(i), resource, bucketAccess, () => conditions);
      return Promise.reject(refusal(ctx, action, resource, decision));
    }
    return undefined;
  }
  return conditionsFor(ctx, actions, resource, bucketAccess, facts).then((conditions) => checkEach(ctx, actions, resource, bucketAccess, conditions));
}

/** Each action's decision in turn (policies, then an ACL grant): AccessDenied at the first refused. */
async function checkEach(
  ctx: RequestContext,
  actions: readonly S3Action[],
  resource: Resource,
  access: BucketAccess,
  conditions: (action: S3Action) => ConditionContext,
): Promise<void> {
  for (const action of actions) {
    const decision = await decide(ctx, action, resource, access, conditions(action));
    if (!decision.allowed) throw refusal(ctx, action, resource, decision);
  }
}

/** Records the refusal for the access log; the AccessDenied to throw. */
function refusal(ctx: RequestContext, action: S3Action, resource: Resource, decision: Decision): S3Error {
  DENIALS.set(ctx, { by: 'authorize', action, resource: resource.kind, principal: ctx.principal.kind, reason: decision.reason });
  // AWS's plain "Access Denied" for everyone, anonymous callers included: now that a bucket policy
  // can grant them access, a refusal says nothing about which policy or why (the access log does).
  return new S3Error('AccessDenied');
}

/**
 * Completes a check checkAccess deferred (PutObjectTagging, whose policies test the requested tags)
 * with the tags its body asks for (undefined: the body could not be read as tags: none). A no-op
 * when nothing was deferred. Every handler of a deferring operation calls it before acting.
 */
export async function checkDeferredAccess(ctx: RequestContext, requestTags: readonly Tag[] | undefined): Promise<void> {
  const deferred = DEFERRED.get(ctx);
  if (deferred === undefined) return;
  DEFERRED.delete(ctx);
  await checkAccess(ctx, deferred.actions, deferred.resource, deferred.access, { requestTags: requestTags ?? [] });
}

/**
 * Throws AccessDenied unless ctx.principal may perform kms `action` on the master key `keyArn`
 * (SSE-KMS: kms:GenerateDataKey to write, kms:Decrypt to read, s3/sse.ts), asked of the one decision
 * point with the request's condition keys plus KMS's own: kms:ViaService (S3 in this region) and
 * kms:EncryptionContext:<name> for each pair of the data key's encryption context. Root: allowed.
 */
export function checkKeyAccess(ctx: RequestContext, action: KmsAction, keyArn: string, encryptionContext: Readonly<Record<string, string>>): void {
  if (ctx.principal.kind === 'root') return;
  const base = new RequestConditions(ctx);
  const values: Record<string, string | undefined> = { 'kms:ViaService': `s3.${ctx.config.region}.amazonaws.com` };
  for (const [name, value] of Object.entries(encryptionContext)) values[`kms:EncryptionContext:${name}`] = value;
  const conditions: ConditionContext = {
    secureTransport: base.secureTransport,
    sourceIp: base.sourceIp,
    operation: base.operation,
    values: { ...base.values, ...values },
  };
  const decision = authorizeKms(ctx.principal, action, keyArn, conditions);
  if (decision.allowed) return;
  DENIALS.set(ctx, { by: 'authorize', action, resource: 'key', principal: ctx.principal.kind, reason: decision.reason });
  throw new S3Error('AccessDenied');
}

/** May ctx.principal perform `action` on `resource`? As checkAccess decides, without throwing or logging a refusal. */
export async function allows(ctx: RequestContext, action: S3Action, resource: Resource, facts: AccessFacts = {}): Promise<boolean> {
  if (ctx.principal.kind === 'root') return true;
  const access = accessOf(ctx, resource, undefined);
  const conditions = await conditionsFor(ctx, [action], resource, access, facts);
  return (await decide(ctx, action, resource, access, conditions(action))).allowed;
}

/** The resource of a request on `bucket` (and `key`): what checkAccess is asked about. */
export function resourceOf(kind: Resource['kind'], bucket: string | undefined, key: string | undefined, owner?: string, versionId?: string): Resource {
  if (kind === 'service' || bucket === undefined) return { kind: 'service' };
  if (kind === 'object' && key !== undefined) return { kind: 'object', bucket, key, owner, versionId };
  return { kind: 'bucket', bucket, owner };
}
