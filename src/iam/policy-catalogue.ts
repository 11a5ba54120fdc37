// What the policy language knows by name: the S3 actions (AWS's "Actions, resources, and condition keys for
// Amazon S3"), the condition keys it accepts, and the condition operators. Validation reads these.

/** The S3 action names (without `s3:`), as AWS spells them. A policy naming another s3: action is malformed. */
export const S3_ACTIONS: readonly string[] = [
  'AbortMultipartUpload',
  'BypassGovernanceRetention',
  'CreateBucket',
  'DeleteBucket',
  'DeleteBucketOwnershipControls',
  'DeleteBucketPolicy',
  'DeleteBucketWebsite',
  'DeleteObject',
  'DeleteObjectTagging',
  'DeleteObjectVersion',
  'DeleteObjectVersionTagging',
  'GetAccelerateConfiguration',
  'GetAnalyticsConfiguration',
  'GetBucketAcl',
  'GetBucketCORS',
  'GetBucketLocation',
  'GetBucketLogging',
  'GetBucketNotification',
  'GetBucketObjectLockConfiguration',
  'GetBucketOwnershipControls',
  'GetBucketPolicy',
  'GetBucketPolicyStatus',
  'GetBucketPublicAccessBlock',
  'GetBucketRequestPayment',
  'GetBucketTagging',
  'GetBucketVersioning',
  'GetBucketWebsite',
  'GetEncryptionConfiguration',
  'GetIntelligentTieringConfiguration',
  'GetInventoryConfiguration',
  'GetLifecycleConfiguration',
  'GetMetricsConfiguration',
  'GetObject',
  'GetObjectAcl',
  'GetObjectAttributes',
  'GetObjectLegalHold',
  'GetObjectRetention',
  'GetObjectTagging',
  'GetObjectTorrent',
  'GetObjectVersion',
  'GetObjectVersionAcl',
  'GetObjectVersionAttributes',
  'GetObjectVersionForReplication',
  'GetObjectVersionTagging',
  'GetObjectVersionTorrent',
  'GetReplicationConfiguration',
  'ListAllMyBuckets',
  'ListBucket',
  'ListBucketMultipartUploads',
  'ListBucketVersions',
  'ListMultipartUploadParts',
  'ObjectOwnerOverrideToBucketOwner',
  'PutAccelerateConfiguration',
  'PutAnalyticsConfiguration',
  'PutBucketAcl',
  'PutBucketCORS',
  'PutBucketLogging',
  'PutBucketNotification',
  'PutBucketObjectLockConfiguration',
  'PutBucketOwnershipControls',
  'PutBucketPolicy',
  'PutBucketPublicAccessBlock',
  'PutBucketRequestPayment',
  'PutBucketTagging',
  'PutBucketVersioning',
  'PutBucketWebsite',
  'PutEncryptionConfiguration',
  'PutIntelligentTieringConfiguration',
  'PutInventoryConfiguration',
  'PutLifecycleConfiguration',
  'PutMetricsConfiguration',
  'PutObject',
  'PutObjectAcl',
  'PutObjectLegalHold',
  'PutObjectRetention',
  'PutObjectTagging',
  'PutObjectVersionAcl',
  'PutObjectVersionTagging',
  'PutReplicationConfiguration',
  'ReplicateDelete',
  'ReplicateObject',
  'ReplicateTags',
  'RestoreObject',
];

/** Lower-cased, for the case-insensitive checks. */
export const S3_ACTIONS_LOWER: readonly string[] = S3_ACTIONS.map((a) => `s3:${a.toLowerCase()}`);

/**
 * Services whose action names Strata accepts without a catalogue: `admin:` (the admin API's actions,
 * MinIO-style, defined when the admin API lands), `sts:`, `iam:`, `kms:`. Any other prefix is "invalid action".
 */
export const OPEN_SERVICES: ReadonlySet<string> = new Set(['admin', 'sts', 'iam', 'kms']);

/**
 * The `s3:` condition keys accepted (lower-cased; a trailing `/` means "this prefix plus a tag key").
 * A key that starts with `aws:` is always accepted (AWS does the same); any other unknown key is
 * "Policy has an invalid condition key".
 */
export const S3_CONDITION_KEYS: ReadonlySet<string> = new Set(
  [
    's3:prefix',
    's3:delimiter',
    's3:max-keys',
    's3:x-amz-acl',
    's3:x-amz-server-side-encryption',
    's3:x-amz-server-side-encryption-aws-kms-key-id',
    's3:x-amz-server-side-encryption-customer-algorithm',
    's3:ExistingObjectTag/',
    's3:RequestObjectTag/',
    's3:RequestObjectTagKeys',
    's3:VersionId',
    's3:signatureversion',
    's3:signatureAge',
    's3:authType',
    's3:x-amz-content-sha256',
    's3:x-amz-copy-source',
    's3:x-amz-metadata-directive',
    's3:x-amz-storage-class',
    's3:x-amz-grant-read',
    's3:x-amz-grant-write',
    's3:x-amz-grant-read-acp',
    's3:x-amz-grant-write-acp',
    's3:x-amz-grant-full-control',
    's3:x-amz-website-redirect-location',
    's3:LocationConstraint',
    's3:object-lock-mode',
    's3:object-lock-retain-until-date',
    's3:object-lock-remaining-retention-days',
    's3:object-lock-legal-hold',
    's3:ResourceAccount',
    's3:TlsVersion',
    's3:ExistingBucketTag/',
    's3:RequestBucketTag/',
  ].map((k) => k.toLowerCase()),
);

/** Whether a condition key may appear in a policy (see S3_CONDITION_KEYS). */
export function knownConditionKey(key: string): boolean {
  const k = key.toLowerCase();
  if (k.startsWith('aws:')) return k.length > 4;
  if (!k.startsWith('s3:')) return /^(sts|iam|admin|kms):[\w-]+/.test(k);
  if (S3_CONDITION_KEYS.has(k)) return true;
  const slash = k.indexOf('/');
  return slash !== -1 && slash < k.length - 1 && S3_CONDITION_KEYS.has(k.slice(0, slash + 1));
}

/** The condition operators, by family (the base names; `…IfExists` and `ForAnyValue:`/`ForAllValues:` are parsed around them). */
export type OperatorFamily = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

export interface OperatorInfo {
  readonly family: OperatorFamily;
  /** StringNotEquals, NotIpAddress…: true when no value matches. */
  readonly negated: boolean;
  /** The comparison within the family. */
  readonly test: 'eq' | 'eqi' | 'like' | 'lt' | 'le' | 'gt' | 'ge' | 'in' | 'null';
}

const op = (family: OperatorFamily, negated: boolean, test: OperatorInfo['test']): OperatorInfo => ({ family, negated, test });

/** Operator name (lower-cased: AWS reads them case-insensitively) → what it does. */
export const OPERATORS: ReadonlyMap<string, OperatorInfo> = new Map(
  Object.entries({
    StringEquals: op('string', false, 'eq'),
    StringNotEquals: op('string', true, 'eq'),
    StringEqualsIgnoreCase: op('string', false, 'eqi'),
    StringNotEqualsIgnoreCase: op('string', true, 'eqi'),
    StringLike: op('string', false, 'like'),
    StringNotLike: op('string', true, 'like'),
    NumericEquals: op('numeric', false, 'eq'),
    NumericNotEquals: op('numeric', true, 'eq'),
    NumericLessThan: op('numeric', false, 'lt'),
    NumericLessThanEquals: op('numeric', false, 'le'),
    NumericGreaterThan: op('numeric', false, 'gt'),
    NumericGreaterThanEquals: op('numeric', false, 'ge'),
    DateEquals: op('date', false, 'eq'),
    DateNotEquals: op('date', true, 'eq'),
    DateLessThan: op('date', false, 'lt'),
    DateLessThanEquals: op('date', false, 'le'),
    DateGreaterThan: op('date', false, 'gt'),
    DateGreaterThanEquals: op('date', false, 'ge'),
    Bool: op('bool', false, 'eq'),
    BinaryEquals: op('binary', false, 'eq'),
    IpAddress: op('ip', false, 'in'),
    NotIpAddress: op('ip', true, 'in'),
    ArnEquals: op('arn', false, 'like'),
    ArnNotEquals: op('arn', true, 'like'),
    ArnLike: op('arn', false, 'like'),
    ArnNotLike: op('arn', true, 'like'),
    Null: op('null', false, 'null'),
  }).map(([k, v]) => [k.toLowerCase(), v]),
);
