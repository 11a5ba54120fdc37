// How the S3 layer asks the one decision point (iam/authorize.ts): the pipeline's authorize stage,
// the PostObject handler after the form's signature, and the copy source of CopyObject and
// UploadPartCopy all call checkAccess, which throws AccessDenied and records why for the access log.
import type { TLSSocket } from 'node:tls';
import type { ConditionContext, Resource, S3Action } from '../iam/authorize.js';
import { authorize } from '../iam/authorize.js';
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

function conditionsOf(ctx: RequestContext): ConditionContext {
  return {
    secureTransport: (ctx.req.socket as TLSSocket | undefined)?.encrypted === true,
    sourceIp: ctx.req.socket?.remoteAddress,
    operation: ctx.op,
  };
}

/** Throws AccessDenied unless ctx.principal may perform every one of `actions` on `resource`. */
export function checkAccess(ctx: RequestContext, actions: readonly S3Action[], resource: Resource): void {
  let conditions: ConditionContext | undefined;
  for (const action of actions) {
    const decision = authorize(ctx.principal, action, resource, (conditions ??= conditionsOf(ctx)));
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
