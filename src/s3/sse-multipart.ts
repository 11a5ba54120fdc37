// Encryption of multipart uploads (docs/encryption.md, docs/s3-compatibility.md): an upload gets its
// encryption at CreateMultipartUpload (s3/sse.ts writeEncryption: one data key per upload, kept as
// the upload's `sse`); every part is sealed with that data key (each piece has its own salt, so the
// shared key never meets a nonce twice: store/sealed.ts). What the later steps must send, as S3
// wants it: an SSE-C upload's parts carry the same customer key (UploadPart, UploadPartCopy), its
// completion and ListParts may carry it (checked when they do); SSE-S3/KMS parts carry no headers.
import type { StoredSse, UploadRecord } from '../store/types.js';
import { header, type RequestContext } from './context.js';
import { S3Error } from './errors.js';
import {
  SSE_BUCKET_KEY_HEADER,
  SSE_CONTEXT_HEADER,
  SSE_HEADER,
  SSE_KMS_KEY_HEADER,
  parseCustomerKey,
  readKey,
  requireSecureForCustomerKey,
  sseHeaders,
} from './sse.js';

/** The object-encryption headers a part or a completion does not take (S3: 400 InvalidArgument). */
const NOT_FOR_PARTS = [SSE_HEADER, SSE_KMS_KEY_HEADER, SSE_CONTEXT_HEADER, SSE_BUCKET_KEY_HEADER];

function refuseObjectEncryptionHeaders(ctx: RequestContext): void {
  for (const name of NOT_FOR_PARTS) {
    if (header(ctx, name) !== undefined) throw new S3Error('InvalidArgument', `${name} header is not supported for this operation.`);
  }
}

/** The customer key a request gives (its SSE-C headers, validated; only over HTTPS unless allowed). */
function requestCustomerKey(ctx: RequestContext) {
  const customer = parseCustomerKey((name) => header(ctx, name));
  if (customer !== undefined) requireSecureForCustomerKey(ctx);
  return customer;
}

/**
 * The data key the parts of `upload` are sealed with (UploadPart, UploadPartCopy's destination),
 * after S3's checks of the request's headers: x-amz-server-side-encryption & co → InvalidArgument;
 * an SSE-C upload without its customer key → InvalidRequest, with another key → 403 AccessDenied;
 * a customer key for an upload without SSE-C → InvalidRequest. undefined: the parts are not sealed.
 */
export async function partKey(ctx: RequestContext, upload: UploadRecord): Promise<Buffer | undefined> {
  refuseObjectEncryptionHeaders(ctx);
  const customer = requestCustomerKey(ctx);
  if (upload.sse?.mode === 'SSE-C' && customer === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters.',
    );
  }
  return readKey(ctx, upload.bucket, upload.key, upload.sse, customer);
}

/**
 * CompleteMultipartUpload and ListParts take an SSE-C upload's key but do not need it (S3 asks for it
 * only with checksums; the parts' ETags and checksums are already known): when the request gives
 * one, it must be the upload's. Object-encryption headers on a completion → InvalidArgument.
 */
export async function checkOptionalCustomerKey(ctx: RequestContext, bucket: string, key: string, sse: StoredSse | undefined): Promise<void> {
  if (ctx.op === 'CompleteMultipartUpload') refuseObjectEncryptionHeaders(ctx);
  const customer = requestCustomerKey(ctx);
  if (customer !== undefined) await readKey(ctx, bucket, key, sse, customer);
}

/**
 * The encryption headers of a multipart step's answer, as S3 documents them: CreateMultipartUpload
 * all of them (sse.ts sseHeaders); UploadPart and UploadPartCopy all but the KMS context;
 * CompleteMultipartUpload x-amz-server-side-encryption, the KMS key id and bucket key (no SSE-C
 * headers: S3's completion answer has none).
 */
export function multipartSseHeaders(stored: StoredSse | undefined, region: string, step: 'part' | 'complete'): Record<string, string> {
  if (stored === undefined || (step === 'complete' && stored.mode === 'SSE-C')) return {};
  const out = sseHeaders(stored, region);
  delete out[SSE_CONTEXT_HEADER];
  return out;
}
