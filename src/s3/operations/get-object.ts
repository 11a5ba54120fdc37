// GetObject and HeadObject — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html ,
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
// Conditionals first, then Range or partNumber; HEAD sends the same headers and never opens data.
import type { ObjectHandle } from '../../store/store.js';
import type { ObjectRecord } from '../../store/types.js';
import { header, type ObjectRequest, type RequestContext, type S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { checksumHeaders, objectHeaders } from '../object-meta.js';
import { checksumTypeOf } from '../multipart.js';
import type { ByteRange } from '../preconditions.js';
import { checkConditionals, parseRange } from '../preconditions.js';
import { loadReadableObject, readVersionHeader } from '../object-read.js';
import type { GetObjectInput } from '../inputs.js';
import { extrasHeaders } from '../version-extras.js';
import { lockVisibility } from '../object-lock.js';
import { expirationHeaders } from '../lifecycle.js';
import { parseCustomerKey, readKey, refuseSseHeader, requireSecureForCustomerKey, sseHeaders } from '../sse.js';

function partRange(rec: ObjectRecord, partParam: string): { range: ByteRange; count: number } {
  if (!/^\d+$/.test(partParam) || Number(partParam) < 1 || Number(partParam) > 10000) {
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: partParam,
    });
  }
  const n = Number(partParam);
  const sizes = rec.parts ?? [rec.size];
  if (n > sizes.length) throw new S3Error('InvalidPartNumber', undefined, { PartNumberRequested: n, ActualPartCount: sizes.length });
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i]!;
  return { range: { start, end: start + sizes[n - 1]! - 1 }, count: sizes.length };
}

export async function getObject(ctx: ObjectRequest & { readonly input: GetObjectInput }): Promise<S3Response> {
  // A read takes the version's own encryption: asking for one is refused, as S3 does.
  refuseSseHeader((name) => header(ctx, name));
  const handle = await loadReadableObject(ctx, ctx.key, ctx.endpoint.versionId);
  try {
    return await answer(ctx, ctx.input, handle);
  } finally {
    // HEAD, empty bodies and errors (conditionals, ranges) unpin the data here; a no-op when the
    // body stream took the pin over (it is released when the stream closes).
    handle.release();
  }
}

/**
 * The checksum headers of part `n` (x-amz-checksum-mode: ENABLED): a multipart object's part has
 * its own checksum of the object's algorithm, kept with the object since format 3 (none for
 * objects completed before); part 1 of a single-part object is the whole object.
 */
async function partChecksumHeaders(ctx: RequestContext, rec: ObjectRecord, n: number, checksumMode: boolean): Promise<Record<string, string>> {
  if (!checksumMode) return {};
  if (!rec.parts) return checksumHeaders(rec, true);
  const [alg, objectValue] = Object.entries(rec.meta.checksums ?? {})[0] ?? [];
  if (alg === undefined || objectValue === undefined) return {};
  const completed = await ctx.store.getCompletedUpload(rec.bucket, rec.key);
  if (!completed || completed.versionId !== rec.versionId || completed.partChecksums.length !== rec.parts.length) return {};
  const v = completed.partChecksums[n - 1]?.[alg];
  return v === undefined ? {} : { [`x-amz-checksum-${alg}`]: v, 'x-amz-checksum-type': checksumTypeOf(objectValue) };
}

async function answer(ctx: RequestContext, input: GetObjectInput, handle: ObjectHandle): Promise<S3Response> {
  const rec = handle.record;
  checkConditionals(rec, input.conditions, 'read');

  const headers: Record<string, string | number> = {
    ...objectHeaders(rec, input.overrides),
    ...readVersionHeader(ctx, rec),
    ...extrasHeaders(rec, await lockVisibility(ctx, rec)),
    ...(await expirationHeaders(ctx, rec)),
  };
  const partParam = input.partNumber;
  const rangeHeader = input.range;
  let range: ByteRange | undefined;
  if (partParam !== undefined) {
    if (rangeHeader !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
    const part = partRange(rec, partParam);
    headers['x-amz-mp-parts-count'] = part.count;
    if (rec.size > 0) range = part.range;
    Object.assign(headers, await partChecksumHeaders(ctx, rec, Number(partParam), input.checksumMode));
  } else {
    range = parseRange(rangeHeader, rec.size);
  }

  let status = 200;
  if (range) {
    status = 206;
    headers['content-range'] = `bytes ${range.start}-${range.end}/${rec.size}`;
    headers['content-length'] = range.end - range.start + 1;
  } else {
    headers['content-length'] = rec.size;
    Object.assign(headers, checksumHeaders(rec, input.checksumMode));
  }
  const isHead = ctx.method === 'HEAD';
  const size = Number(headers['content-length']);
  // SSE-C: the customer's key is checked on HEAD too; an SSE-S3/KMS data key is unwrapped only for bytes.
  const customer = parseCustomerKey((name) => header(ctx, name));
  if (customer !== undefined) requireSecureForCustomerKey(ctx);
  const bodyless = isHead || size === 0;
  const key = customer !== undefined || rec.sse?.mode === 'SSE-C' || !bodyless ? await readKey(ctx, rec.bucket, rec.key, rec.sse, customer) : undefined;
  if (rec.sse !== undefined) Object.assign(headers, sseHeaders(rec.sse, ctx.config.region));
  if (bodyless) return { status, headers };
  // A small object stored inline is already in memory: answered as one buffer (no stream).
  const inline = handle.inline(key);
  if (inline !== undefined) return { status, headers, body: range ? inline.subarray(range.start, range.end + 1) : inline };
  return { status, headers, body: handle.stream(range, key) };
}
