// Pure request → operation resolution, by the sub-resources S3 defines. No I/O, table-tested.
// Unknown query parameters (x-id, ...) never change the operation; known sub-resources always do,
// so a request for an unsupported sub-resource is answered NotImplemented, never treated as a
// plain object operation (DELETE /b/k?tagging must not delete the object).

/**
 * The exact AWS operation name (ListObjectsV2, PutBucketTagging, ...), or 'PreflightRequest' for
 * CORS OPTIONS, or 'MethodNotAllowed'. Whether an operation is implemented is the registry's call
 * (its names are the closed union OperationName of registry.ts): a resolved name without an entry
 * is answered 501 NotImplemented.
 */
export type ResolvedName = string;

/**
 * The typed endpoint: the operation and the parameters that name what it acts on, parsed once here.
 * Handlers read these, not the query (partNumber stays the raw text: its validation and error are
 * the operation's).
 */
export interface Endpoint {
  readonly op: ResolvedName;
  readonly bucket?: string;
  readonly key?: string;
  readonly versionId?: string;
  readonly uploadId?: string;
  readonly partNumber?: string;
}

/** Bucket sub-resources and the S3 operation family they name (Get/Put/Delete + name). */
const BUCKET_SUBRESOURCES: Record<string, string> = {
  accelerate: 'BucketAccelerateConfiguration',
  acl: 'BucketAcl',
  analytics: 'BucketAnalyticsConfiguration',
  cors: 'BucketCors',
  encryption: 'BucketEncryption',
  'intelligent-tiering': 'BucketIntelligentTieringConfiguration',
  inventory: 'BucketInventoryConfiguration',
  lifecycle: 'BucketLifecycleConfiguration',
  location: 'BucketLocation',
  logging: 'BucketLogging',
  metadataTable: 'BucketMetadataTableConfiguration',
  metrics: 'BucketMetricsConfiguration',
  notification: 'BucketNotificationConfiguration',
  'object-lock': 'ObjectLockConfiguration',
  ownershipControls: 'BucketOwnershipControls',
  policy: 'BucketPolicy',
  policyStatus: 'BucketPolicyStatus',
  publicAccessBlock: 'PublicAccessBlock',
  replication: 'BucketReplication',
  requestPayment: 'BucketRequestPayment',
  tagging: 'BucketTagging',
  versioning: 'BucketVersioning',
  website: 'BucketWebsite',
};

const OBJECT_SUBRESOURCES: Record<string, string> = {
  acl: 'ObjectAcl',
  attributes: 'ObjectAttributes',
  'legal-hold': 'ObjectLegalHold',
  retention: 'ObjectRetention',
  tagging: 'ObjectTagging',
  torrent: 'ObjectTorrent',
  restore: 'RestoreObject',
  select: 'SelectObjectContent',
  renameObject: 'RenameObject',
};

// The tables as lists, made once (resolveOperation walks them on every request).
/** Sub-resources whose GET without `id` lists the bucket's configurations (ListBucket…Configurations). */
const LISTED_BY_ID = new Set(['analytics', 'metrics', 'inventory', 'intelligent-tiering']);

const BUCKET_SUBRESOURCE_LIST: ReadonlyArray<readonly [string, string]> = Object.entries(BUCKET_SUBRESOURCES);
const OBJECT_SUBRESOURCE_LIST: ReadonlyArray<readonly [string, string]> = Object.entries(OBJECT_SUBRESOURCES);

/** Parameters that select or steer an operation (besides the sub-resources above). */
const OPERATION_PARAMETERS = new Set(['uploads', 'uploadId', 'partNumber', 'versionId', 'versions', 'delete', 'list-type', 'x-id']);

/**
 * Whether a query parameter name selects or steers an S3 operation. Such a name given twice on a
 * mutating request is refused (InvalidArgument): which value counts would be up to each parser
 * along the way (parameter pollution), and S3 defines no list-valued parameters.
 */
export function isOperationParameter(name: string): boolean {
  return OPERATION_PARAMETERS.has(name) || Object.hasOwn(BUCKET_SUBRESOURCES, name) || Object.hasOwn(OBJECT_SUBRESOURCES, name);
}

function op(name: ResolvedName, bucket?: string, key?: string): Endpoint {
  return { op: name, bucket, key };
}

/** The endpoint of a request: its operation (resolveOperation) with the parameters it names. */
export function resolveEndpoint(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: ReadonlyMap<string, string>,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Endpoint {
  const r = resolveOperation(method, bucket, key, query, headers);
  const versionId = query.get('versionId');
  const uploadId = query.get('uploadId');
  const partNumber = query.get('partNumber');
  if (versionId === undefined && uploadId === undefined && partNumber === undefined) return r;
  return { ...r, versionId, uploadId, partNumber };
}

/**
 * @param query decoded query parameters (names as sent; S3 sub-resource names are case-sensitive)
 * @param headers lowercased header names
 */
export function resolveOperation(
  method: string,
  bucket: string | undefined,
  key: string | undefined,
  query: ReadonlyMap<string, string>,
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Endpoint {
  const m = method.toUpperCase();
  if (m === 'OPTIONS') return op('PreflightRequest', bucket, key);

  if (!bucket) {
    if (m === 'GET' || m === 'HEAD') return op('ListBuckets');
    return op('MethodNotAllowed');
  }

  if (key === undefined || key === '') {
    for (const [param, family] of BUCKET_SUBRESOURCE_LIST) {
      if (!query.has(param)) continue;
      if (param === 'location' || param === 'policyStatus') {
        return m === 'GET' ? op(`Get${family}`, bucket) : op('MethodNotAllowed', bucket);
      }
      if (m === 'GET') return op(LISTED_BY_ID.has(param) && !query.has('id') ? `List${family}s` : `Get${family}`, bucket);
      if (m === 'PUT') return op(`Put${family}`, bucket);
      // S3 names one DELETE differently from its GET/PUT family: DeleteBucketLifecycle.
      if (m === 'DELETE') return op(param === 'lifecycle' ? 'DeleteBucketLifecycle' : `Delete${family}`, bucket);
      return op('MethodNotAllowed', bucket);
    }
    switch (m) {
      case 'GET':
        if (query.has('versions')) return op('ListObjectVersions', bucket);
        if (query.has('uploads')) return op('ListMultipartUploads', bucket);
        if (query.get('list-type') === '2') return op('ListObjectsV2', bucket);
        return op('ListObjects', bucket);
      case 'HEAD':
        return op('HeadBucket', bucket);
      case 'PUT':
        return op('CreateBucket', bucket);
      case 'DELETE':
        return op('DeleteBucket', bucket);
      case 'POST':
        if (query.has('delete')) return op('DeleteObjects', bucket);
        return op('PostObject', bucket);
      default:
        return op('MethodNotAllowed', bucket);
    }
  }

  for (const [param, family] of OBJECT_SUBRESOURCE_LIST) {
    if (!query.has(param)) continue;
    if (param === 'restore' || param === 'select' || param === 'renameObject') {
      return m === 'POST' || m === 'PUT' ? op(family, bucket, key) : op('MethodNotAllowed', bucket, key);
    }
    if (m === 'GET' || m === 'HEAD') return op(`Get${family}`, bucket, key);
    if (m === 'PUT') return op(`Put${family}`, bucket, key);
    if (m === 'DELETE') return op(`Delete${family}`, bucket, key);
    return op('MethodNotAllowed', bucket, key);
  }

  const copySource = headers['x-amz-copy-source'] !== undefined;
  switch (m) {
    case 'GET':
      if (query.has('uploadId')) return op('ListParts', bucket, key);
      return op('GetObject', bucket, key);
    case 'HEAD':
      return op('HeadObject', bucket, key);
    case 'PUT':
      if (query.has('uploadId') || query.has('partNumber')) {
        return op(copySource ? 'UploadPartCopy' : 'UploadPart', bucket, key);
      }
      return op(copySource ? 'CopyObject' : 'PutObject', bucket, key);
    case 'POST':
      if (query.has('uploads')) return op('CreateMultipartUpload', bucket, key);
      if (query.has('uploadId')) return op('CompleteMultipartUpload', bucket, key);
      return op('MethodNotAllowed', bucket, key);
    case 'DELETE':
      if (query.has('uploadId')) return op('AbortMultipartUpload', bucket, key);
      return op('DeleteObject', bucket, key);
    default:
      return op('MethodNotAllowed', bucket, key);
  }
}
