// `Expect: 100-continue`: what is checked before the client is told to send its body. By the time a
// body reader asks (RequestContext.continueBody), the request is authenticated and its handler has
// checked everything it checks before reading (the bucket, for UploadPart the upload, the headers).
// Here, for PutObject, the write conditions that the metadata can already decide: If-None-Match: *
// on a key that exists, If-Match on a key that is missing or has another ETag. The commit checks them
// again atomically; this check only refuses what the commit would certainly refuse, so a client that
// waits for 100 Continue gets the answer without sending the body.
// https://www.rfc-editor.org/rfc/rfc9110#section-10.1.1
import { StoreError } from '../store/errors.js';
import type { RequestContext } from './context.js';
import type { PutObjectInput } from './inputs.js';

/** Throws the answer a waiting client should get instead of 100 Continue, if there is one. */
export async function checkBeforeContinue(ctx: RequestContext): Promise<void> {
  if (ctx.op !== 'PutObject' || ctx.bucket === undefined || ctx.key === undefined) return;
  // PutObject's typed input, parsed by the pipeline before the body stage (s3/inputs.ts).
  const cond = (ctx.input as PutObjectInput | undefined)?.condition;
  if (cond === undefined || (!cond.mustNotExist && cond.etagMatches === undefined)) return;
  const handle = await ctx.store.readObject(ctx.bucket, ctx.key, { withBytes: false });
  const current = handle?.record;
  try {
    if (cond.mustNotExist && current) throw new StoreError('PreconditionFailed', 'If-None-Match');
    if (cond.etagMatches !== undefined) {
      // The same answers as the commit's (MetaStore.putObject): a missing key is NoSuchKey.
      if (!current) throw new StoreError('NoSuchKey');
      if (current.etag !== cond.etagMatches) throw new StoreError('PreconditionFailed', 'If-Match');
    }
  } finally {
    handle?.release();
  }
}
