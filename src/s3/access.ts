// How the S3 layer asks the one decision point (iam/authorize.ts): the pipeline's authorize stage,
// the PostObject handler after the form's signature, and the copy source of CopyObject and
// UploadPartCopy all call checkAccess, which throws AccessDenied and records why for the access log.
import type { TLSSocket } from 'node:tls';
import type { BucketAccess, ConditionContext, Resource, S3Action } from '../iam/authorize.js';
import { NO_BUCKET_ACCESS, authorize } from '../iam/authorize.js';
import type { RequestContext } from './context.js';
import { S3Error } from './errors.js';

/** A refusal by the authorize stage, as the access log shows it (field `denied`). */
export interface Denial {
  by: 'authorize';
  action: S3Action;
  resource: Resource['kind'];
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
    's3:x-amz-content-sha256': h('x-amz-content-sha256'),
    's3:authType': sig.authType,
    's3:signatureversion': sig.version,
  };
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

/**
 * Throws AccessDenied unless ctx.principal may perform every one of `actions` on `resource`.
 * `access`: the resource's bucket's policy and ACLs (s3/bucket-access.ts); by default the request's
 * own bucket's (`ctx.bucketAccess`, loaded by the pipeline for every principal but root).
 */
export async function checkAccess(ctx: RequestContext, actions: readonly S3Action[], resource: Resource, access?: BucketAccess): Promise<void> {
  const principal = ctx.principal;
  // The root principal is allowed outright: no condition keys, no bucket access are built for it.
  if (principal.kind === 'root') return;
  const bucketAccess = access ?? (resource.kind !== 'service' && resource.bucket === ctx.bucket ? ctx.bucketAccess : undefined) ?? NO_BUCKET_ACCESS;
  const conditions = new RequestConditions(ctx);
  for (const action of actions) {
    let decision = authorize(principal, action, resource, conditions, bucketAccess);
    // No policy decided: an ACL grant (the bucket's, or the object's) may still allow.
    if (!decision.allowed && decision.implicit === true && bucketAccess.acl !== undefined && (await bucketAccess.acl(principal, action, resource))) {
      decision = authorize(principal, action, resource, conditions, bucketAccess, { aclAllows: true });
    }
    if (decision.allowed) continue;
    DENIALS.set(ctx, { by: 'authorize', action, resource: resource.kind, principal: ctx.principal.kind, reason: decision.reason });
    // The message unsigned requests always got: it tells the user what to do.
    throw new S3Error('AccessDenied', ctx.principal.kind === 'anonymous' ? 'Anonymous access is not allowed; sign the request.' : undefined);
  }
}

/** The resource of a request on `bucket` (and `key`): what checkAccess is asked about. */
export function resourceOf(kind: Resource['kind'], bucket: string | undefined, key: string | undefined, owner?: string, versionId?: string): Resource {
  if (kind === 'service' || bucket === undefined) return { kind: 'service' };
  if (kind === 'object' && key !== undefined) return { kind: 'object', bucket, key, owner, versionId };
  return { kind: 'bucket', bucket, owner };
}
