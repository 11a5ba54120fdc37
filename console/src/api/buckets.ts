// Bucket-level S3 calls of the console: create/delete, and each configuration subresource
// (versioning, lifecycle, CORS, tagging, policy, default encryption, object lock) read and written
// through S3's own APIs at /api/s3. A "not configured" answer (NoSuchTagSet, NoSuch…Configuration)
// reads as an empty configuration; every other error is thrown as ApiError with S3's code.
import { ApiError, adminJson } from './api';
import { s3, s3Xml } from './s3';
import { crc32Base64, doc, el, kid, kidNumber, kidText, kids, opt } from './xml';

/** Runs `read`; an ApiError whose code is one of `absent` gives `empty` instead. */
async function orEmpty<T>(read: () => Promise<T>, absent: string[], empty: T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof ApiError && absent.includes(err.code)) return empty;
    throw err;
  }
}

const xmlHeaders = { 'content-type': 'application/xml' };

async function putXml(bucket: string, sub: string, body: string, extra: Record<string, string> = {}): Promise<void> {
  await s3('PUT', { bucket, query: { [sub]: '' }, headers: { ...xmlHeaders, ...extra }, body });
}

// ---- create / delete ----------------------------------------------------------------------------

export interface CreateBucketOptions {
  versioning: boolean;
  objectLock: boolean;
  encryption?: EncryptionSetting;
}

/**
 * CreateBucket, then the options as their own calls (S3 has no single call): object lock with the
 * creation header (it turns versioning on), versioning, default encryption. Resolves with the
 * error of a later step that was refused (the bucket exists then), or undefined when all took.
 */
export async function createBucket(name: string, opts: CreateBucketOptions): Promise<ApiError | undefined> {
  await s3('PUT', { bucket: name, headers: opts.objectLock ? { 'x-amz-bucket-object-lock-enabled': 'true' } : {} });
  try {
    if (opts.versioning && !opts.objectLock) await putVersioning(name, 'Enabled');
    if (opts.encryption && opts.encryption.algorithm !== 'none') await putEncryption(name, opts.encryption);
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return new ApiError(err.code, `The bucket ${name} was created, but a setting was refused: ${err.message}`, err.status);
    throw err;
  }
}

export async function deleteBucket(name: string): Promise<void> {
  await s3('DELETE', { bucket: name });
}

// ---- usage (admin API, from the metrics slice) -------------------------------------------------------

export interface BucketUsage {
  name: string;
  objects: number;
  bytes: number;
  versions: number;
}

/**
 * Per-bucket object counts and sizes (`GET v1/usage`, admin:ServerInfo), or the ApiError that
 * refused them (the list then shows "—" and says why).
 */
export async function bucketUsage(): Promise<Map<string, BucketUsage> | ApiError> {
  try {
    const r = await adminJson<{ buckets?: BucketUsage[] }>('GET', 'v1/usage');
    return new Map((r.buckets ?? []).map((b) => [b.name, b]));
  } catch (err) {
    return err instanceof ApiError ? err : new ApiError('Error', String(err), 0);
  }
}

// ---- versioning ----------------------------------------------------------------------------------

export type VersioningStatus = 'Unversioned' | 'Enabled' | 'Suspended';

export async function getVersioning(bucket: string): Promise<VersioningStatus> {
  const d = await s3Xml('GET', { bucket, query: { versioning: '' } });
  const s = kidText(d, 'Status');
  return s === 'Enabled' || s === 'Suspended' ? s : 'Unversioned';
}

export async function putVersioning(bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  await putXml(bucket, 'versioning', doc('VersioningConfiguration', [el('Status', status)]));
}

// ---- tagging ---------------------------------------------------------------------------------------

export interface Tag {
  key: string;
  value: string;
}

export async function getTags(bucket: string): Promise<Tag[]> {
  return orEmpty(
    async () => {
      const d = await s3Xml('GET', { bucket, query: { tagging: '' } });
      const set = kid(d, 'TagSet');
      return set ? kids(set, 'Tag').map((t) => ({ key: kidText(t, 'Key') ?? '', value: kidText(t, 'Value') ?? '' })) : [];
    },
    ['NoSuchTagSet'],
    [],
  );
}

export async function putTags(bucket: string, tags: Tag[]): Promise<void> {
  if (tags.length === 0) {
    await s3('DELETE', { bucket, query: { tagging: '' } });
    return;
  }
  const body = doc('Tagging', [
    el(
      'TagSet',
      tags.map((t) => el('Tag', [el('Key', t.key), el('Value', t.value)])),
    ),
  ]);
  await putXml(bucket, 'tagging', body);
}

// ---- policy ------------------------------------------------------------------------------------------

/** The bucket policy's JSON text, or '' when the bucket has none. */
export async function getPolicy(bucket: string): Promise<string> {
  return orEmpty(async () => (await s3('GET', { bucket, query: { policy: '' } })).text(), ['NoSuchBucketPolicy'], '');
}

export async function putPolicy(bucket: string, json: string): Promise<void> {
  await s3('PUT', { bucket, query: { policy: '' }, headers: { 'content-type': 'application/json' }, body: json });
}

export async function deletePolicy(bucket: string): Promise<void> {
  await s3('DELETE', { bucket, query: { policy: '' } });
}

// ---- CORS --------------------------------------------------------------------------------------------

export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

const texts = (node: Element, name: string) => kids(node, name).map((e) => (e.textContent ?? '').trim());

export async function getCors(bucket: string): Promise<CorsRule[]> {
  return orEmpty(
    async () => {
      const d = await s3Xml('GET', { bucket, query: { cors: '' } });
      return kids(d, 'CORSRule').map((r) => ({
        id: kidText(r, 'ID'),
        allowedOrigins: texts(r, 'AllowedOrigin'),
        allowedMethods: texts(r, 'AllowedMethod'),
        allowedHeaders: texts(r, 'AllowedHeader'),
        exposeHeaders: texts(r, 'ExposeHeader'),
        maxAgeSeconds: kidNumber(r, 'MaxAgeSeconds'),
      }));
    },
    ['NoSuchCORSConfiguration'],
    [],
  );
}

export async function putCors(bucket: string, rules: CorsRule[]): Promise<void> {
  if (rules.length === 0) {
    await s3('DELETE', { bucket, query: { cors: '' } });
    return;
  }
  const body = doc(
    'CORSConfiguration',
    rules.map((r) =>
      el('CORSRule', [
        opt('ID', r.id),
        ...r.allowedHeaders.map((h) => el('AllowedHeader', h)),
        ...r.allowedMethods.map((m) => el('AllowedMethod', m)),
        ...r.allowedOrigins.map((o) => el('AllowedOrigin', o)),
        ...r.exposeHeaders.map((h) => el('ExposeHeader', h)),
        opt('MaxAgeSeconds', r.maxAgeSeconds),
      ]),
    ),
  );
  await putXml(bucket, 'cors', body);
}

// ---- lifecycle ---------------------------------------------------------------------------------------

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  prefix: string;
  tags: Tag[];
  /** Size conditions are kept as read (the form does not edit them). */
  sizeGreaterThan?: number;
  sizeLessThan?: number;
  expirationDays?: number;
  expirationDate?: string;
  expiredObjectDeleteMarker?: boolean;
  noncurrentDays?: number;
  newerNoncurrentVersions?: number;
  abortIncompleteDays?: number;
}

function readFilter(rule: Element): Pick<LifecycleRule, 'prefix' | 'tags' | 'sizeGreaterThan' | 'sizeLessThan'> {
  const filter = kid(rule, 'Filter');
  if (!filter) return { prefix: kidText(rule, 'Prefix') ?? '', tags: [] };
  const scope = kid(filter, 'And') ?? filter;
  return {
    prefix: kidText(scope, 'Prefix') ?? '',
    tags: kids(scope, 'Tag').map((t) => ({ key: kidText(t, 'Key') ?? '', value: kidText(t, 'Value') ?? '' })),
    sizeGreaterThan: kidNumber(scope, 'ObjectSizeGreaterThan'),
    sizeLessThan: kidNumber(scope, 'ObjectSizeLessThan'),
  };
}

export async function getLifecycle(bucket: string): Promise<LifecycleRule[]> {
  return orEmpty(
    async () => {
      const d = await s3Xml('GET', { bucket, query: { lifecycle: '' } });
      return kids(d, 'Rule').map((r) => {
        const exp = kid(r, 'Expiration');
        const nc = kid(r, 'NoncurrentVersionExpiration');
        const abort = kid(r, 'AbortIncompleteMultipartUpload');
        return {
          id: kidText(r, 'ID') ?? '',
          enabled: kidText(r, 'Status') === 'Enabled',
          ...readFilter(r),
          expirationDays: exp && kidNumber(exp, 'Days'),
          expirationDate: exp && kidText(exp, 'Date'),
          expiredObjectDeleteMarker: exp ? kidText(exp, 'ExpiredObjectDeleteMarker') === 'true' : undefined,
          noncurrentDays: nc && kidNumber(nc, 'NoncurrentDays'),
          newerNoncurrentVersions: nc && kidNumber(nc, 'NewerNoncurrentVersions'),
          abortIncompleteDays: abort && kidNumber(abort, 'DaysAfterInitiation'),
        };
      });
    },
    ['NoSuchLifecycleConfiguration'],
    [],
  );
}

function filterXml(r: LifecycleRule): string {
  const conditions = [
    r.prefix ? el('Prefix', r.prefix) : undefined,
    ...r.tags.map((t) => el('Tag', [el('Key', t.key), el('Value', t.value)])),
    opt('ObjectSizeGreaterThan', r.sizeGreaterThan),
    opt('ObjectSizeLessThan', r.sizeLessThan),
  ].filter((c): c is string => c !== undefined);
  if (conditions.length === 0) return el('Filter', []);
  if (conditions.length === 1) return el('Filter', conditions);
  return el('Filter', [el('And', conditions)]);
}

export function lifecycleXml(rules: LifecycleRule[]): string {
  return doc(
    'LifecycleConfiguration',
    rules.map((r) =>
      el('Rule', [
        opt('ID', r.id),
        filterXml(r),
        el('Status', r.enabled ? 'Enabled' : 'Disabled'),
        r.expirationDays !== undefined || r.expirationDate || r.expiredObjectDeleteMarker
          ? el('Expiration', [
              opt('Days', r.expirationDays),
              r.expirationDays === undefined ? opt('Date', r.expirationDate) : undefined,
              r.expiredObjectDeleteMarker && r.expirationDays === undefined && !r.expirationDate ? el('ExpiredObjectDeleteMarker', 'true') : undefined,
            ])
          : undefined,
        r.noncurrentDays !== undefined
          ? el('NoncurrentVersionExpiration', [el('NoncurrentDays', r.noncurrentDays), opt('NewerNoncurrentVersions', r.newerNoncurrentVersions)])
          : undefined,
        r.abortIncompleteDays !== undefined ? el('AbortIncompleteMultipartUpload', [el('DaysAfterInitiation', r.abortIncompleteDays)]) : undefined,
      ]),
    ),
  );
}

export async function putLifecycle(bucket: string, rules: LifecycleRule[]): Promise<void> {
  if (rules.length === 0) {
    await s3('DELETE', { bucket, query: { lifecycle: '' } });
    return;
  }
  await putXml(bucket, 'lifecycle', lifecycleXml(rules));
}

// ---- default encryption ------------------------------------------------------------------------------

export interface EncryptionSetting {
  algorithm: 'none' | 'AES256' | 'aws:kms';
  keyId?: string;
  bucketKey?: boolean;
}

export async function getEncryption(bucket: string): Promise<EncryptionSetting> {
  return orEmpty<EncryptionSetting>(
    async () => {
      const d = await s3Xml('GET', { bucket, query: { encryption: '' } });
      const rule = kid(d, 'Rule');
      const by = rule && kid(rule, 'ApplyServerSideEncryptionByDefault');
      const alg = by && kidText(by, 'SSEAlgorithm');
      return {
        algorithm: alg === 'aws:kms' || alg === 'aws:kms:dsse' ? 'aws:kms' : alg === 'AES256' ? 'AES256' : 'none',
        keyId: by && kidText(by, 'KMSMasterKeyID'),
        bucketKey: rule ? kidText(rule, 'BucketKeyEnabled') === 'true' : undefined,
      };
    },
    ['ServerSideEncryptionConfigurationNotFoundError'],
    { algorithm: 'none' },
  );
}

export async function putEncryption(bucket: string, s: EncryptionSetting): Promise<void> {
  if (s.algorithm === 'none') {
    await s3('DELETE', { bucket, query: { encryption: '' } });
    return;
  }
  const body = doc('ServerSideEncryptionConfiguration', [
    el('Rule', [
      el('ApplyServerSideEncryptionByDefault', [el('SSEAlgorithm', s.algorithm), s.algorithm === 'aws:kms' ? opt('KMSMasterKeyID', s.keyId) : undefined]),
      s.bucketKey !== undefined ? el('BucketKeyEnabled', s.bucketKey) : undefined,
    ]),
  ]);
  await putXml(bucket, 'encryption', body);
}

// ---- object lock --------------------------------------------------------------------------------------

export interface ObjectLockSetting {
  enabled: boolean;
  /** Default retention for new objects, or none. */
  mode?: 'GOVERNANCE' | 'COMPLIANCE';
  days?: number;
  years?: number;
}

export async function getObjectLock(bucket: string): Promise<ObjectLockSetting> {
  return orEmpty<ObjectLockSetting>(
    async () => {
      const d = await s3Xml('GET', { bucket, query: { 'object-lock': '' } });
      const rule = kid(d, 'Rule');
      const ret = rule && kid(rule, 'DefaultRetention');
      const mode = ret && kidText(ret, 'Mode');
      return {
        enabled: kidText(d, 'ObjectLockEnabled') === 'Enabled',
        mode: mode === 'GOVERNANCE' || mode === 'COMPLIANCE' ? mode : undefined,
        days: ret && kidNumber(ret, 'Days'),
        years: ret && kidNumber(ret, 'Years'),
      };
    },
    ['ObjectLockConfigurationNotFoundError'],
    { enabled: false },
  );
}

export async function putObjectLock(bucket: string, s: ObjectLockSetting): Promise<void> {
  const body = doc('ObjectLockConfiguration', [
    el('ObjectLockEnabled', 'Enabled'),
    s.mode ? el('Rule', [el('DefaultRetention', [el('Mode', s.mode), opt('Days', s.days), opt('Years', s.years)])]) : undefined,
  ]);
  // S3 requires Content-MD5 or an x-amz-checksum-* on this PUT.
  await putXml(bucket, 'object-lock', body, { 'x-amz-checksum-crc32': crc32Base64(body) });
}
