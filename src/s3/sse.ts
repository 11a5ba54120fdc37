// Server-side encryption as S3 speaks it (docs/encryption.md): which encryption a write asks for
// (SSE-C, SSE-S3, SSE-KMS headers or POST form fields, else the bucket's default, else the server's),
// the data key it gets (from the key service, or derived from the customer's key), the key a read
// must give the store to open a sealed version, and the response headers. The store seals and opens
// (store/sealed.ts) with the 32-byte data key it is given; it never sees where the key comes from.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { keyIdOf, kmsKeyArn } from '../kms/arn.js';
import { KmsError, type KeyService } from '../kms/kms.js';
import { pooledRandom } from '../kms/random.js';
import { hkdf32 } from '../store/hkdf.js';
import type { StoredSse } from '../store/types.js';
import { checkKeyAccess } from './access.js';
import { ENCRYPTION_CONFIG_NAME, storedEncryptionRule } from './bucket-encryption.js';
import { header, type RequestContext } from './context.js';
import { S3Error } from './errors.js';

/** SSE-C headers (a write's, or a read's). */
export const SSE_C_HEADERS = {
  algorithm: 'x-amz-server-side-encryption-customer-algorithm',
  key: 'x-amz-server-side-encryption-customer-key',
  keyMd5: 'x-amz-server-side-encryption-customer-key-md5',
} as const;
/** The SSE-C headers naming a copy source's key (CopyObject, UploadPartCopy). */
export const COPY_SOURCE_SSE_C_HEADERS = {
  algorithm: 'x-amz-copy-source-server-side-encryption-customer-algorithm',
  key: 'x-amz-copy-source-server-side-encryption-customer-key',
  keyMd5: 'x-amz-copy-source-server-side-encryption-customer-key-md5',
} as const;
export const SSE_HEADER = 'x-amz-server-side-encryption';
export const SSE_KMS_KEY_HEADER = 'x-amz-server-side-encryption-aws-kms-key-id';
export const SSE_CONTEXT_HEADER = 'x-amz-server-side-encryption-context';
export const SSE_BUCKET_KEY_HEADER = 'x-amz-server-side-encryption-bucket-key-enabled';

/** A customer's key as a request gives it (validated: 32 bytes, its MD5 matching). */
export interface CustomerKey {
  key: Buffer;
  /** base64 MD5 of the key, as S3 echoes it. */
  keyMd5: string;
}

/** What a write's headers (or form fields) ask for, validated; nothing asked of the key service yet. */
export type SseRequest =
  | { mode: 'SSE-C'; customer: CustomerKey }
  | { mode: 'AES256' }
  | { mode: 'aws:kms'; keyId?: string; context?: string; bucketKey?: boolean; dsse?: boolean };

/** A write's encryption: what its record stores, and the data key the store seals with. */
export interface WriteEncryption {
  stored: StoredSse;
  key: Buffer;
}

export const SSE_NOT_CONFIGURED = 'Server side encryption specified but KMS is not configured';

/** Reads a header or POST form field by its lowercase name. */
export type FieldReader = (name: string) => string | undefined;

/**
 * The customer key a request gives under `names` (the object's SSE-C headers, or a copy source's),
 * validated as S3 does; undefined when none of the three is present.
 */
export function parseCustomerKey(get: FieldReader, names: typeof SSE_C_HEADERS | typeof COPY_SOURCE_SSE_C_HEADERS = SSE_C_HEADERS): CustomerKey | undefined {
  const algorithm = get(names.algorithm);
  const key = get(names.key);
  const keyMd5 = get(names.keyMd5);
  if (algorithm === undefined && key === undefined && keyMd5 === undefined) return undefined;
  if (algorithm === undefined) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.', {
      ArgumentName: names.algorithm,
      ArgumentValue: 'null',
    });
  }
  if (algorithm !== 'AES256') {
    throw new S3Error('InvalidEncryptionAlgorithmError', 'The Encryption request you specified is not valid. Supported value: AES256.', {
      ArgumentName: names.algorithm,
      ArgumentValue: algorithm,
    });
  }
  if (key === undefined) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.', {
      ArgumentName: names.key,
      ArgumentValue: 'null',
    });
  }
  const bytes = Buffer.from(key, 'base64');
  if (bytes.length !== 32 || bytes.toString('base64') !== key.trim()) {
    throw new S3Error('InvalidArgument', 'The secret key was invalid for the specified algorithm.', { ArgumentName: names.key, ArgumentValue: 'null' });
  }
  const md5 = createHash('md5').update(bytes).digest('base64');
  if (keyMd5 === undefined) {
    throw new S3Error(
      'InvalidArgument',
      'Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.',
      {
        ArgumentName: names.keyMd5,
        ArgumentValue: 'null',
      },
    );
  }
  if (keyMd5 !== md5) {
    throw new S3Error('InvalidArgument', 'The calculated MD5 hash of the key did not match the hash that was provided.', {
      ArgumentName: names.keyMd5,
      ArgumentValue: keyMd5,
    });
  }
  return { key: bytes, keyMd5: md5 };
}

/** SSE-C needs a secure connection, as on AWS, unless the operator allowed plain HTTP (--sse-c-over-http). */
export function requireSecureForCustomerKey(ctx: RequestContext): void {
  if (ctx.config.sseCOverHttp) return;
  const socket = ctx.req.socket as { encrypted?: boolean } | undefined;
  if (socket?.encrypted === true) return;
  throw new S3Error('InvalidRequest', 'Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
}

/**
 * What a write (PutObject, PostObject, CopyObject's destination, CreateMultipartUpload) asks for,
 * validated; undefined when it asks for nothing (the bucket's default may still apply: writeEncryption).
 */
export function parseSseRequest(ctx: RequestContext, get: FieldReader): SseRequest | undefined {
  const customer = parseCustomerKey(get);
  const sse = get(SSE_HEADER);
  const keyId = get(SSE_KMS_KEY_HEADER);
  const context = get(SSE_CONTEXT_HEADER);
  const bucketKey = get(SSE_BUCKET_KEY_HEADER);
  if (customer !== undefined) {
    if (sse !== undefined) {
      throw new S3Error('InvalidArgument', 'Server Side Encryption with Customer provided key is incompatible with the encryption method specified', {
        ArgumentName: SSE_HEADER,
        ArgumentValue: sse,
      });
    }
    requireSecureForCustomerKey(ctx);
    return { mode: 'SSE-C', customer };
  }
  if (sse === undefined) {
    if (keyId !== undefined || context !== undefined) {
      throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', {
        ArgumentName: SSE_HEADER,
        ArgumentValue: 'null',
      });
    }
    return undefined;
  }
  if (sse === 'AES256') {
    if (keyId !== undefined || context !== undefined) {
      throw new S3Error('InvalidArgument', 'Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', {
        ArgumentName: SSE_HEADER,
        ArgumentValue: sse,
      });
    }
    return { mode: 'AES256' };
  }
  if (sse === 'aws:kms' || sse === 'aws:kms:dsse') {
    const req: SseRequest = { mode: 'aws:kms' };
    if (sse === 'aws:kms:dsse') req.dsse = true;
    if (keyId !== undefined) req.keyId = normalKeyId(keyId);
    if (context !== undefined) {
      checkContext(context);
      req.context = context;
    }
    if (bucketKey !== undefined) req.bucketKey = bucketKey.toLowerCase() === 'true';
    return req;
  }
  throw new S3Error('InvalidArgument', 'The encryption method specified is not supported', { ArgumentName: SSE_HEADER, ArgumentValue: sse });
}

/** A KMS key id as S3 takes it: the id, or its ARN (arn:aws:kms:region:account:key/ID) of this server (kms/arn.ts). */
function normalKeyId(text: string): string {
  const id = keyIdOf(text);
  if (id === undefined) throw new S3Error('KMS.NotFoundException', `Invalid keyId ${text}`, { ArgumentName: SSE_KMS_KEY_HEADER });
  return id;
}

/** x-amz-server-side-encryption-context: base64 of a JSON object of strings. */
function checkContext(text: string): Record<string, string> {
  const bad = () =>
    new S3Error('InvalidArgument', 'The header x-amz-server-side-encryption-context is not valid base64-encoded JSON of string pairs.', {
      ArgumentName: SSE_CONTEXT_HEADER,
    });
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64').toString('utf8'));
  } catch {
    throw bad();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad();
  for (const v of Object.values(value)) if (typeof v !== 'string') throw bad();
  return value as Record<string, string>;
}

/** The encryption context bound to a data key: the client's pairs plus S3's own, the object's ARN. */
function kmsContext(bucket: string, key: string, stored: StoredSse): Record<string, string> {
  const arn = `arn:aws:s3:::${bucket}/${key}`;
  return stored.context === undefined ? { 'aws:s3:arn': arn } : { ...checkContext(stored.context), 'aws:s3:arn': arn };
}

/** AWS refuses SSE-KMS requests signed with Signature Version 2 (header or presigned query). */
function requireSigV4ForKms(ctx: RequestContext): void {
  const auth = ctx.headers.authorization;
  if ((typeof auth === 'string' && auth.startsWith('AWS ')) || (ctx.query.has('Signature') && ctx.query.has('AWSAccessKeyId'))) {
    throw new S3Error('InvalidArgument', 'Requests specifying Server Side Encryption with AWS KMS managed keys require AWS Signature Version 4.', {
      ArgumentName: 'Authorization',
      ArgumentValue: 'null',
    });
  }
}

function requireKms(ctx: RequestContext): KeyService {
  if (ctx.kms === undefined) throw new S3Error('NotImplemented', SSE_NOT_CONFIGURED);
  return ctx.kms;
}

/** A key service failure as S3 answers it; never a wrong key. */
export function kmsFailure(err: unknown): unknown {
  if (!(err instanceof KmsError)) return err;
  switch (err.code) {
    case 'NotFoundException':
      return new S3Error('KMS.NotFoundException', err.message);
    case 'DisabledException':
      return new S3Error('KMS.DisabledException', err.message);
    case 'InvalidCiphertextException':
      return new S3Error('KMS.InvalidCiphertextException', err.message);
    case 'ValidationException':
      return new S3Error('InvalidArgument', err.message);
    default:
      return new S3Error('KMS.KMSInternalException', err.message);
  }
}

/**
 * What an SSE-C object keeps and uses of its customer's key, from the key and the object's salt:
 * the keyed MAC stored to tell a wrong key apart, and the data key (docs/on-disk-format.md,
 * "extra.sse"). Objects written now (`kdf` 2): one HMAC-SHA512(customer key, label | salt), its
 * first 32 bytes the data key, its last 32 the MAC (one half says nothing of the other). Before
 * (no `kdf`): HMAC-SHA256(customer key, label | salt) and HKDF-SHA256(customer key, salt, label):
 * three HMACs.
 */
function customerKeys(customer: Buffer, salt: Buffer, kdf: 2 | undefined): { mac: Buffer; dataKey: Buffer } {
  if (kdf === 2) {
    const both = createHmac('sha512', customer).update(CUSTOMER_KEYS_LABEL).update(salt).digest();
    return { dataKey: both.subarray(0, 32), mac: both.subarray(32) };
  }
  return {
    mac: createHmac('sha256', customer).update('strata sse-c key check').update(salt).digest(),
    dataKey: hkdf32(customer, salt, 'strata sse-c data key'),
  };
}

const CUSTOMER_KEYS_LABEL = 'strata sse-c keys v2\0';

/**
 * The encryption of a new object `bucket/key` (or of a new multipart upload's parts): what the
 * request asks for, else the bucket's default (its `encryption` configuration), else the server's
 * (--sse-default). undefined: stored in the clear.
 */
export async function writeEncryption(ctx: RequestContext, bucket: string, key: string, asked: SseRequest | undefined): Promise<WriteEncryption | undefined> {
  const req = asked === undefined ? await defaultEncryption(ctx, bucket) : await withBucketKey(ctx, bucket, asked);
  if (req === undefined) return undefined;
  if (req.mode === 'SSE-C') {
    const salt = pooledRandom(16);
    const { mac, dataKey } = customerKeys(req.customer.key, salt, 2);
    return {
      stored: { mode: 'SSE-C', keyMd5: req.customer.keyMd5, salt: salt.toString('base64'), mac: mac.toString('base64'), kdf: 2 },
      key: dataKey,
    };
  }
  const kms = requireKms(ctx);
  if (req.mode === 'aws:kms') requireSigV4ForKms(ctx);
  const stored: StoredSse = { mode: req.mode, keyId: req.mode === 'aws:kms' && req.keyId !== undefined ? req.keyId : kms.defaultKeyId };
  if (req.mode === 'aws:kms') {
    if (req.context !== undefined) stored.context = req.context;
    if (req.bucketKey !== undefined) stored.bucketKey = req.bucketKey;
    if (req.dsse === true) stored.dsse = true;
  }
  const context = kmsContext(bucket, key, stored);
  mayUseKey(ctx, kms, 'kms:GenerateDataKey', stored, context);
  try {
    const dk = await kms.generateDataKey(stored.keyId!, context);
    stored.keyId = dk.keyId;
    stored.dataKey = dk.ciphertext.toString('base64');
    return { stored, key: dk.plaintext };
  } catch (err) {
    throw kmsFailure(err);
  }
}

/** The bucket's default encryption (PutBucketEncryption, s3/bucket-encryption.ts), else the server's; undefined: none. */
async function defaultEncryption(ctx: RequestContext, bucket: string): Promise<SseRequest | undefined> {
  const rule = storedEncryptionRule(await bucketEncryptionText(ctx, bucket));
  if (rule !== undefined) {
    if (rule.algorithm === 'AES256') return { mode: 'AES256' };
    const req: SseRequest = { mode: 'aws:kms' };
    if (rule.algorithm === 'aws:kms:dsse') req.dsse = true;
    if (rule.keyId !== undefined) req.keyId = rule.keyId;
    if (rule.bucketKey !== undefined) req.bucketKey = rule.bucketKey;
    return req;
  }
  return ctx.config.sseByDefault ? { mode: 'AES256' } : undefined;
}

/**
 * The bucket's stored encryption rule (text), undefined when none: as the pipeline loaded it with the
 * request's bucket (writes: no read of its own), else read now (another bucket, e.g. a copy's).
 */
function bucketEncryptionText(ctx: RequestContext, bucket: string): Promise<string | undefined> | string | undefined {
  if (bucket === ctx.bucket && ctx.bucketEncryption !== undefined) return ctx.bucketEncryption ?? undefined;
  return ctx.store.getBucketConfig(bucket, ENCRYPTION_CONFIG_NAME);
}

/**
 * An SSE-KMS request without x-amz-server-side-encryption-bucket-key-enabled takes the bucket's
 * BucketKeyEnabled setting, as on AWS (its key stays the one the request names, or the default key).
 */
async function withBucketKey(ctx: RequestContext, bucket: string, asked: SseRequest): Promise<SseRequest> {
  if (asked.mode !== 'aws:kms' || asked.bucketKey !== undefined) return asked;
  const rule = storedEncryptionRule(await bucketEncryptionText(ctx, bucket));
  return rule?.bucketKey === undefined || rule.algorithm === 'AES256' ? asked : { ...asked, bucketKey: rule.bucketKey };
}

/**
 * May the caller use the master key of `stored` for `action` (kms:GenerateDataKey to write,
 * kms:Decrypt to read)? SSE-S3 needs nothing beyond the S3 action. SSE-KMS under the service's
 * default key plays AWS's aws/s3 managed key, which every principal of the account may use through
 * S3 but an anonymous caller may not (it has no account). Any other key needs the kms: action on its
 * ARN in the caller's policies (root: always). AccessDenied otherwise, before the key service is asked.
 */
function mayUseKey(
  ctx: RequestContext,
  kms: KeyService,
  action: 'kms:GenerateDataKey' | 'kms:Decrypt',
  stored: StoredSse,
  context: Record<string, string>,
): void {
  const kind = ctx.principal.kind;
  if (kind === 'root' || stored.mode === 'AES256' || (stored.keyId === kms.defaultKeyId && kind !== 'anonymous')) return;
  checkKeyAccess(ctx, action, kmsKeyArn(stored.keyId!, ctx.config.region), context);
}

/**
 * The data key that opens a sealed version (or a sealed upload's parts) `stored` of `bucket/key`,
 * checked against what the request gives: an SSE-C object needs its customer's key (missing →
 * InvalidRequest, wrong → 403 AccessDenied); an SSE-S3/KMS one is unwrapped by the key service
 * (failures fail closed). A request giving a customer key for an object that has none is refused.
 * undefined for a version stored in the clear.
 */
export async function readKey(
  ctx: RequestContext,
  bucket: string,
  key: string,
  stored: StoredSse | undefined,
  customer: CustomerKey | undefined,
): Promise<Buffer | undefined> {
  if (stored === undefined || stored.mode !== 'SSE-C') {
    if (customer !== undefined) throw new S3Error('InvalidRequest', 'The encryption parameters are not applicable to this object.');
    if (stored === undefined) return undefined;
    const kms = requireKms(ctx);
    if (stored.mode === 'aws:kms') requireSigV4ForKms(ctx);
    const context = kmsContext(bucket, key, stored);
    mayUseKey(ctx, kms, 'kms:Decrypt', stored, context);
    try {
      return await kms.decryptDataKey(stored.keyId!, Buffer.from(stored.dataKey!, 'base64'), context);
    } catch (err) {
      throw kmsFailure(err);
    }
  }
  if (customer === undefined) {
    throw new S3Error(
      'InvalidRequest',
      'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.',
    );
  }
  const mac = Buffer.from(stored.mac!, 'base64');
  const given = customerKeys(customer.key, Buffer.from(stored.salt!, 'base64'), stored.kdf);
  if (mac.length !== given.mac.length || !timingSafeEqual(mac, given.mac)) throw new S3Error('AccessDenied', 'Access Denied');
  return given.dataKey;
}

/**
 * x-amz-server-side-encryption on an operation that takes none (a read: the version's own encryption
 * applies) → 400 InvalidArgument, as S3 answers it.
 */
export function refuseSseHeader(get: FieldReader): void {
  const value = get(SSE_HEADER);
  if (value === undefined) return;
  throw new S3Error('InvalidArgument', 'x-amz-server-side-encryption header is not supported for this operation.', {
    ArgumentName: SSE_HEADER,
    ArgumentValue: value,
  });
}

/**
 * A read that opens no data (GetObjectAttributes): no x-amz-server-side-encryption (refuseSseHeader),
 * and the request's customer key checked against the version as readKey does (an SSE-C version needs
 * the right one; one given for another version is refused). An SSE-S3/KMS data key is not unwrapped.
 */
export async function checkCustomerKey(ctx: RequestContext, bucket: string, key: string, stored: StoredSse | undefined): Promise<void> {
  refuseSseHeader((name) => header(ctx, name));
  const customer = parseCustomerKey((name) => header(ctx, name));
  if (customer !== undefined) requireSecureForCustomerKey(ctx);
  if (customer !== undefined || stored?.mode === 'SSE-C') await readKey(ctx, bucket, key, stored, customer);
}

/** The response headers that describe a version's (or an upload's) encryption, as S3 sends them. */
export function sseHeaders(stored: StoredSse | undefined, region: string): Record<string, string> {
  if (stored === undefined) return {};
  if (stored.mode === 'SSE-C') {
    return { [SSE_C_HEADERS.algorithm]: 'AES256', [SSE_C_HEADERS.keyMd5]: stored.keyMd5! };
  }
  const out: Record<string, string> = { [SSE_HEADER]: stored.dsse === true ? 'aws:kms:dsse' : stored.mode };
  if (stored.mode === 'aws:kms') {
    out[SSE_KMS_KEY_HEADER] = kmsKeyArn(stored.keyId!, region);
    if (stored.context !== undefined) out[SSE_CONTEXT_HEADER] = stored.context;
    if (stored.bucketKey === true) out[SSE_BUCKET_KEY_HEADER] = 'true';
  }
  return out;
}

/**
 * The ETag of an encrypted single-part object: S3's is the MD5 of the plaintext for SSE-S3 only; for
 * SSE-C and SSE-KMS it is not (AWS: "not an MD5 of the object data"). Ours is a MAC of the plaintext's
 * MD5 under the data key: stable for the object, telling nothing of its bytes.
 */
export function sealedEtag(stored: StoredSse | undefined, dataKey: Buffer | undefined, md5Hex: string): string {
  if (stored === undefined || stored.mode === 'AES256' || dataKey === undefined) return `"${md5Hex}"`;
  return `"${createHmac('sha256', dataKey).update('strata etag').update(md5Hex).digest('hex').slice(0, 32)}"`;
}
