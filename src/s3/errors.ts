// The one S3 error table: code → HTTP status and default message, as Amazon S3 answers them.
// docs/errors.md lists the same table; a unit test keeps the two in sync.
import { StoreError } from '../store/errors.js';

export const ERROR_CODES = {
  AccessForbidden: {
    status: 403,
    message:
      "CORSResponse: This CORS request is not allowed. This is usually because the evaluation of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
  },
  AccessDenied: { status: 403, message: 'Access Denied' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadRequest: { status: 400, message: 'Bad Request' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum you specified did not match what we received.' },
  BucketAlreadyExists: {
    status: 409,
    message:
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  },
  BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: { status: 400, message: 'The specified location-constraint is not valid.' },
  IllegalVersioningConfigurationException: { status: 400, message: 'The versioning configuration specified in the request is invalid.' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { status: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 or checksum you specified is not valid.' },
  InvalidEncryptionAlgorithmError: { status: 400, message: 'The Encryption request you specified is not valid. Supported value: AES256.' },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidPart: {
    status: 400,
    message:
      "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' },
  InvalidPolicyDocument: { status: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidToken: { status: 400, message: 'The provided token is malformed or otherwise invalid.' },
  InvalidTag: {
    status: 400,
    message:
      'Your request contains tag input that is not valid. For example, your request might contain duplicate keys, keys or values that are too long, or system tags.',
  },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid.' },
  KeyTooLongError: { status: 400, message: 'Your key is too long.' },
  MalformedTrailerError: { status: 400, message: 'The request contained trailing data that was not well-formed or did not conform to our published schema.' },
  MalformedPolicy: { status: 400, message: "Policies must be valid JSON and the first byte must be '{'" },
  MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MaxPostPreDataLengthExceeded: { status: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist.' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  ServerSideEncryptionConfigurationNotFoundError: { status: 404, message: 'The server side encryption configuration was not found' },
  'KMS.NotFoundException': { status: 400, message: 'The key ID does not exist.' },
  'KMS.DisabledException': { status: 400, message: 'The key is disabled.' },
  'KMS.InvalidCiphertextException': { status: 400, message: "The object's data key could not be decrypted." },
  'KMS.KMSInternalException': { status: 500, message: 'The key service could not read its key material.' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchConfiguration: { status: 404, message: 'The specified configuration does not exist.' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  NoSuchObjectLockConfiguration: { status: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: {
    status: 404,
    message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NoSuchWebsiteConfiguration: { status: 404, message: 'The specified bucket does not have a website configuration' },
  NotImplemented: { status: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { status: 304, message: 'Not Modified' },
  ObjectLockConfigurationNotFoundError: { status: 404, message: 'Object Lock configuration does not exist for this bucket' },
  PreconditionFailed: { status: 412, message: 'At least one of the pre-conditions you specified did not hold.' },
  ReplicationConfigurationNotFoundError: { status: 404, message: 'The replication configuration was not found' },
  RequestTimeTooSkewed: { status: 403, message: "The difference between the request time and the server's time is too large." },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestTimeout: { status: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  ServiceUnavailable: { status: 503, message: 'Service is unable to handle request.' },
  SignatureDoesNotMatch: {
    status: 403,
    message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
  // ACLs and Object Ownership (issue 12, acl slice: s3/acl.ts, acl-grants.ts, ownership.ts)
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  InvalidBucketAclWithObjectOwnership: { status: 400, message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting" },
  MalformedACLError: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
  UnresolvableGrantByEmailAddress: { status: 400, message: 'The email address you provided does not match any account on record.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof ERROR_CODES;

/** Extra XML elements of an error body, in order (BucketName, Key, Region, RequestTime...). */
export type ErrorFields = Record<string, string | number | undefined>;

export class S3Error extends Error {
  readonly status: number;
  constructor(
    readonly code: S3ErrorCode,
    message?: string,
    readonly fields: ErrorFields = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.name = 'S3Error';
    this.status = ERROR_CODES[code].status;
  }
}

/** Store errors → S3 errors, in one place. Anything else is left for the pipeline (InternalError). */
export function toS3Error(err: unknown, ctx: { bucket?: string; key?: string } = {}): S3Error | undefined {
  if (err instanceof S3Error) return err;
  // A full disk not (yet) translated by the store (a raw ENOSPC): the same clear answer as
  // StoreError('NoSpace'). The stores map their engines' errors themselves.
  if (!(err instanceof StoreError)) return isOutOfSpace(err) ? noSpace() : undefined;
  switch (err.code) {
    case 'NoSuchBucket':
      return new S3Error('NoSuchBucket', undefined, { BucketName: ctx.bucket });
    case 'BucketAlreadyExists':
      return new S3Error('BucketAlreadyExists', undefined, { BucketName: ctx.bucket });
    case 'BucketAlreadyOwnedByYou':
      return new S3Error('BucketAlreadyOwnedByYou', undefined, { BucketName: ctx.bucket });
    case 'BucketNotEmpty':
      return new S3Error('BucketNotEmpty', undefined, { BucketName: ctx.bucket });
    case 'NoSuchKey':
      return new S3Error('NoSuchKey', undefined, { Key: ctx.key });
    case 'NoSuchUpload':
      return new S3Error('NoSuchUpload');
    case 'ObjectLocked':
      // What S3 answers a delete or overwrite of a version under retention or legal hold.
      return new S3Error('AccessDenied', 'Access Denied because object protected by object lock.');
    case 'InvalidBucketState':
      return new S3Error('InvalidBucketState', err.message === 'InvalidBucketState' ? undefined : err.message);
    case 'PreconditionFailed':
      return new S3Error('PreconditionFailed', undefined, { Condition: err.message === 'If-None-Match' ? 'If-None-Match' : 'If-Match' });
    case 'NoSpace':
      return noSpace();
    case 'Busy':
      // The metadata store stayed locked (another process) longer than a write may wait: S3's
      // "reduce your request rate", which every SDK retries with backoff.
      return new S3Error('SlowDown');
    case 'Unavailable':
      // Too few drives of an erasure set answer (more than its parity offline or failing), or the
      // PostgreSQL metadata database does not (--meta postgres): a 503 every SDK retries with
      // backoff; service resumes when the drives (the database) return.
      return new S3Error(
        'SlowDown',
        err.message.startsWith('metadata database unavailable')
          ? 'The metadata database is not available. Please retry.'
          : 'Not enough drives are available to serve this request. Please retry.',
      );
    case 'Internal':
      // The metadata engine failed (the pipeline logs the error with the engine's message).
      return new S3Error('InternalError');
    case 'DataCorrupt':
      // Stored bytes missing or damaged (the store logged which object and file): a server fault,
      // with the generic message (no path or id reaches the client).
      return new S3Error('InternalError');
    case 'NoSuchEntity':
    case 'EntityAlreadyExists':
    case 'DeleteConflict':
      // Identity errors belong to the admin API (src/admin/), which answers them itself; no S3
      // operation writes identities.
      return new S3Error('InternalError');
  }
}

/**
 * Disk full. AWS has no insufficient-storage code (MinIO's 507 XMinioStorageFull is unknown to the
 * SDKs, which do not retry it); InternalError (500) is retried by every SDK, which is right when
 * space may come back, and the message says what is wrong (docs/errors.md).
 */
function noSpace(): S3Error {
  return new S3Error('InternalError', 'There is not enough free space on the storage to accept this upload.');
}

function isOutOfSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
