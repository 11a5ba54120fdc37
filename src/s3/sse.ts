// Server-side encryption is not implemented yet: a request that asks for it (SSE-S3, SSE-KMS or
// SSE-C headers, or the same POST form fields) is refused before its body is read, so no client
// believes it stored ciphertext when it stored plaintext. The answer is MinIO's when no KMS is
// configured: 501 NotImplemented, "Server side encryption specified but KMS is not configured".
import { S3Error } from './errors.js';

/** SSE-S3 / SSE-KMS: the server encrypts with its own keys. */
const SSE = [
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-server-side-encryption-context',
  'x-amz-server-side-encryption-bucket-key-enabled',
] as const;
/** SSE-C: the client sends the key with every request. */
const SSE_C = [
  'x-amz-server-side-encryption-customer-algorithm',
  'x-amz-server-side-encryption-customer-key',
  'x-amz-server-side-encryption-customer-key-md5',
] as const;
/** SSE-C key of a copy's source. */
const COPY_SOURCE_SSE_C = [
  'x-amz-copy-source-server-side-encryption-customer-algorithm',
  'x-amz-copy-source-server-side-encryption-customer-key',
  'x-amz-copy-source-server-side-encryption-customer-key-md5',
] as const;

/** The encryption headers (or POST form fields) each operation takes. */
const TAKES: Readonly<Record<string, readonly string[]>> = {
  PutObject: [...SSE, ...SSE_C],
  PostObject: [...SSE, ...SSE_C],
  CopyObject: [...SSE, ...SSE_C, ...COPY_SOURCE_SSE_C],
  CreateMultipartUpload: [...SSE, ...SSE_C],
  // UploadPart takes only SSE-C; an SSE-S3 header there still asks for encryption: refused too.
  UploadPart: [...SSE, ...SSE_C],
  UploadPartCopy: [...SSE, ...SSE_C, ...COPY_SOURCE_SSE_C],
  GetObject: SSE_C,
  HeadObject: SSE_C,
  GetObjectAttributes: SSE_C,
};

export const SSE_NOT_CONFIGURED = 'Server side encryption specified but KMS is not configured';

/**
 * Refuses an operation that asks for server-side encryption. `get` reads a header or a form field
 * by its lowercase name. Called by the pipeline before the body stage (headers) and by PostObject
 * once the form's fields are read and before the file is (fields).
 */
export function refuseEncryption(op: string, get: (name: string) => string | undefined): void {
  const names = TAKES[op];
  if (names === undefined) return;
  for (const name of names) {
    if (get(name) === undefined) continue;
    const customer = name.includes('-customer-');
    throw new S3Error(
      'NotImplemented',
      customer ? 'Server side encryption with customer-provided keys (SSE-C) is not implemented by this server.' : SSE_NOT_CONFIGURED,
      { Header: name },
    );
  }
}
