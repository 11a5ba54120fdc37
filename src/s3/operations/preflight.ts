// CORS preflight: OPTIONS /bucket[/key] — https://docs.aws.amazon.com/AmazonS3/latest/API/RESTOPTIONSobject.html
// Unauthenticated (the pipeline skips stage 3 for it). The bucket's own rules, else the server-wide
// default (--cors-origins); the first rule allowing the origin, the requested method and every
// requested header wins. Errors are S3's: 400 BadRequest, 403 AccessForbidden, 404 NoSuchBucket.
import type { RequestContext, S3Response } from '../context.js';
import { header } from '../context.js';
import { CORS_METHODS, corsResponseHeaders, defaultCorsRules, findCorsRule, loadBucketCors, parseRequestHeaders } from '../cors.js';
import { S3Error } from '../errors.js';

export async function preflight(ctx: RequestContext): Promise<S3Response> {
  const origin = header(ctx, 'origin');
  if (origin === undefined || origin === '') {
    throw new S3Error('BadRequest', 'Insufficient information. Origin request header needed.');
  }
  const method = header(ctx, 'access-control-request-method');
  if (method === undefined || !(CORS_METHODS as readonly string[]).includes(method)) {
    throw new S3Error('BadRequest', `Invalid Access-Control-Request-Method: ${method ?? 'null'}`);
  }
  const requested = parseRequestHeaders(header(ctx, 'access-control-request-headers'));
  const fields = { Method: method, ResourceType: ctx.key !== undefined ? 'OBJECT' : ctx.bucket !== undefined ? 'BUCKET' : 'SERVICE' };

  // A missing bucket is NoSuchBucket (thrown by the lookup), even when a server default exists.
  const bucketRules = ctx.bucket !== undefined ? await loadBucketCors(ctx.store, ctx.bucket) : undefined;
  const rules = bucketRules ?? defaultCorsRules(ctx.config.corsOrigins);
  if (rules === undefined) throw new S3Error('AccessForbidden', 'CORSResponse: CORS is not enabled for this bucket.', fields);
  const rule = findCorsRule(rules, origin, method, requested);
  if (!rule) throw new S3Error('AccessForbidden', undefined, fields);
  return { status: 200, headers: corsResponseHeaders(rule, origin, requested) };
}
