// The operation registry: every implemented operation, its handler, body policy, the IAM actions
// it needs and the kind of resource it acts on. Adding an operation = one file in operations/ + one
// line here (docs/ARCHITECTURE.md, "Adding an operation"). Resolved names without an entry are
// answered 501 NotImplemented by the pipeline.
import type { S3Action } from '../iam/authorize.js';
import { COPY_SOURCE_ACTIONS } from './copy-source.js';
import type { BodyPolicy, BucketRequest, NamedBucketRequest, ObjectRequest, OperationSpec, RequestContext, S3Response, WithInput } from './context.js';
import {
  completeMultipartUploadInput,
  copyObjectInput,
  createMultipartUploadInput,
  getObjectInput,
  partInput,
  putObjectInput,
  uploadPartCopyInput,
} from './inputs.js';
import { abortMultipartUpload } from './operations/abort-multipart-upload.js';
import { completeMultipartUpload } from './operations/complete-multipart-upload.js';
import { copyObject } from './operations/copy-object.js';
import { createMultipartUpload } from './operations/create-multipart-upload.js';
import { getObjectAttributes } from './operations/get-object-attributes.js';
import { listMultipartUploads } from './operations/list-multipart-uploads.js';
import { listParts } from './operations/list-parts.js';
import { uploadPart } from './operations/upload-part.js';
import { uploadPartCopy } from './operations/upload-part-copy.js';
import { createBucket } from './operations/create-bucket.js';
import { deleteBucket } from './operations/delete-bucket.js';
import { deleteBucketCors } from './operations/delete-bucket-cors.js';
import { deleteObject } from './operations/delete-object.js';
import { deleteObjects } from './operations/delete-objects.js';
import { getBucketCors } from './operations/get-bucket-cors.js';
import { getBucketLocation } from './operations/get-bucket-location.js';
import { getBucketVersioning } from './operations/get-bucket-versioning.js';
import { putBucketVersioning } from './operations/put-bucket-versioning.js';
import { getObject } from './operations/get-object.js';
import { getObjectTagging } from './operations/get-object-tagging.js';
import { getObjectTorrent } from './operations/get-object-torrent.js';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './operations/acl.js';
import { deleteBucketOwnershipControls, getBucketOwnershipControls, putBucketOwnershipControls } from './operations/ownership-controls.js';
import { headBucket } from './operations/head-bucket.js';
import { listBuckets } from './operations/list-buckets.js';
import { listObjectVersions } from './operations/list-object-versions.js';
import { listObjects } from './operations/list-objects.js';
import { listObjectsV2 } from './operations/list-objects-v2.js';
import { preflight } from './operations/preflight.js';
import { putBucketCors } from './operations/put-bucket-cors.js';
import { postObject } from './operations/post-object.js';
import { putObject } from './operations/put-object.js';
// Tagging (issue 11, tagging slice)
import { deleteBucketTagging } from './operations/delete-bucket-tagging.js';
import { deleteObjectTagging } from './operations/delete-object-tagging.js';
import { getBucketTagging } from './operations/get-bucket-tagging.js';
import { putBucketTagging } from './operations/put-bucket-tagging.js';
import { putObjectTagging } from './operations/put-object-tagging.js';
import { getObjectLegalHold } from './operations/get-object-legal-hold.js';
import { getObjectLockConfiguration } from './operations/get-object-lock-configuration.js';
import { getObjectRetention } from './operations/get-object-retention.js';
import { putObjectLegalHold } from './operations/put-object-legal-hold.js';
import { putObjectLockConfiguration } from './operations/put-object-lock-configuration.js';
import { putObjectRetention } from './operations/put-object-retention.js';
import { requireBodyIntegrity } from './object-lock.js';
// lifecycle slice
import { deleteBucketLifecycle } from './operations/delete-bucket-lifecycle.js';
import { getBucketLifecycleConfiguration } from './operations/get-bucket-lifecycle-configuration.js';
import { putBucketLifecycleConfiguration } from './operations/put-bucket-lifecycle-configuration.js';
import {
  getBucketAccelerateConfiguration,
  getBucketConfigurationById,
  getBucketLogging,
  getBucketNotificationConfiguration,
  getBucketReplication,
  getBucketRequestPayment,
  getBucketWebsite,
  listBucketAnalyticsConfigurations,
  listBucketIntelligentTieringConfigurations,
  listBucketInventoryConfigurations,
  listBucketMetricsConfigurations,
} from './operations/unconfigured-bucket.js';
// bucket policies and Block Public Access (issue 12, policy slice)
import { deleteBucketPolicy } from './operations/delete-bucket-policy.js';
import { deletePublicAccessBlock } from './operations/delete-public-access-block.js';
import { getBucketPolicy } from './operations/get-bucket-policy.js';
import { getBucketPolicyStatus } from './operations/get-bucket-policy-status.js';
import { getPublicAccessBlock } from './operations/get-public-access-block.js';
import { putBucketPolicy } from './operations/put-bucket-policy.js';
import { putPublicAccessBlock } from './operations/put-public-access-block.js';
// default bucket encryption (issue 13, ssedefault slice)
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './operations/bucket-encryption.js';

interface Extra<I> {
  body?: BodyPolicy;
  versionActions?: readonly S3Action[];
  sourceActions?: readonly S3Action[];
  /** Parses the operation's typed input (s3/inputs.ts), which the handler receives as ctx.input. */
  input?: (ctx: RequestContext) => I;
}

/** An operation on the service (no bucket): ListBuckets. */
function onService(handler: (ctx: RequestContext) => Promise<S3Response>, actions: readonly S3Action[]): OperationSpec {
  return { handler, body: 'none', resource: 'service', actions, bucketMustExist: false };
}

/** An operation on an existing bucket: the pipeline loads it (NoSuchBucket) before the handler. */
function onBucket<I = undefined>(
  handler: (ctx: WithInput<BucketRequest, I>) => Promise<S3Response>,
  actions: readonly S3Action[],
  extra: Extra<I> = {},
): OperationSpec {
  return { body: 'none', ...extra, handler: handler as OperationSpec['handler'], resource: 'bucket', actions, bucketMustExist: true };
}

/** An operation on an object of an existing bucket. */
function onObject<I = undefined>(
  handler: (ctx: WithInput<ObjectRequest, I>) => Promise<S3Response>,
  actions: readonly S3Action[],
  extra: Extra<I> = {},
): OperationSpec {
  return { body: 'none', ...extra, handler: handler as OperationSpec['handler'], resource: 'object', actions, bucketMustExist: true };
}

/** An operation naming a bucket that need not exist (CreateBucket). */
function onNamedBucket(handler: (ctx: NamedBucketRequest) => Promise<S3Response>, actions: readonly S3Action[], extra: Extra<undefined> = {}): OperationSpec {
  return { body: 'none', ...extra, handler: handler as OperationSpec['handler'], resource: 'bucket', actions, bucketMustExist: false };
}

// IAM actions: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
// and each API page's "Permissions" section.
export const OPERATIONS = {
  ListBuckets: onService(listBuckets, ['s3:ListAllMyBuckets']),
  CreateBucket: onNamedBucket(createBucket, ['s3:CreateBucket'], { body: 'xml' }),
  DeleteBucket: onBucket(deleteBucket, ['s3:DeleteBucket']),
  HeadBucket: onBucket(headBucket, ['s3:ListBucket']),
  GetBucketLocation: onBucket(getBucketLocation, ['s3:GetBucketLocation']),
  GetBucketVersioning: onBucket(getBucketVersioning, ['s3:GetBucketVersioning']),
  PutBucketVersioning: onBucket(putBucketVersioning, ['s3:PutBucketVersioning'], { body: 'xml' }),
  PutBucketCors: onBucket(putBucketCors, ['s3:PutBucketCORS'], { body: 'xml' }),
  GetBucketCors: onBucket(getBucketCors, ['s3:GetBucketCORS']),
  DeleteBucketCors: onBucket(deleteBucketCors, ['s3:PutBucketCORS']),
  // Configurations no bucket can have yet: what S3 answers without one (unconfigured-bucket.ts).
  GetBucketLogging: onBucket(getBucketLogging, ['s3:GetBucketLogging']),
  GetBucketNotificationConfiguration: onBucket(getBucketNotificationConfiguration, ['s3:GetBucketNotification']),
  GetBucketRequestPayment: onBucket(getBucketRequestPayment, ['s3:GetBucketRequestPayment']),
  GetBucketAccelerateConfiguration: onBucket(getBucketAccelerateConfiguration, ['s3:GetAccelerateConfiguration']),
  GetBucketWebsite: onBucket(getBucketWebsite, ['s3:GetBucketWebsite']),
  GetBucketReplication: onBucket(getBucketReplication, ['s3:GetReplicationConfiguration']),
  ListBucketAnalyticsConfigurations: onBucket(listBucketAnalyticsConfigurations, ['s3:GetAnalyticsConfiguration']),
  ListBucketMetricsConfigurations: onBucket(listBucketMetricsConfigurations, ['s3:GetMetricsConfiguration']),
  ListBucketInventoryConfigurations: onBucket(listBucketInventoryConfigurations, ['s3:GetInventoryConfiguration']),
  ListBucketIntelligentTieringConfigurations: onBucket(listBucketIntelligentTieringConfigurations, ['s3:GetIntelligentTieringConfiguration']),
  GetBucketAnalyticsConfiguration: onBucket(getBucketConfigurationById, ['s3:GetAnalyticsConfiguration']),
  GetBucketMetricsConfiguration: onBucket(getBucketConfigurationById, ['s3:GetMetricsConfiguration']),
  GetBucketInventoryConfiguration: onBucket(getBucketConfigurationById, ['s3:GetInventoryConfiguration']),
  GetBucketIntelligentTieringConfiguration: onBucket(getBucketConfigurationById, ['s3:GetIntelligentTieringConfiguration']),
  // A CORS preflight is answered without credentials (as S3 does): no action, not authorized.
  PreflightRequest: { handler: preflight, body: 'none', resource: 'bucket', actions: [], bucketMustExist: false },
  ListObjects: onBucket(listObjects, ['s3:ListBucket']),
  ListObjectsV2: onBucket(listObjectsV2, ['s3:ListBucket']),
  ListObjectVersions: onBucket(listObjectVersions, ['s3:ListBucketVersions']),
  // Each key is also a DeleteObject (s3:DeleteObject on the object); the bucket-level check stands for them.
  DeleteObjects: onBucket(deleteObjects, ['s3:DeleteObject'], { body: 'xml' }),
  PutObject: onObject(putObject, ['s3:PutObject'], { body: 'stream', input: putObjectInput }),
  // Principal and key are in the form: its handler authorizes s3:PutObject on the object after the form's signature.
  PostObject: onBucket(postObject, ['s3:PutObject'], { body: 'form' }),
  CopyObject: onObject(copyObject, ['s3:PutObject'], { sourceActions: COPY_SOURCE_ACTIONS, input: copyObjectInput }),
  GetObject: onObject(getObject, ['s3:GetObject'], { versionActions: ['s3:GetObjectVersion'], input: getObjectInput }),
  HeadObject: onObject(getObject, ['s3:GetObject'], { versionActions: ['s3:GetObjectVersion'], input: getObjectInput }),
  DeleteObject: onObject(deleteObject, ['s3:DeleteObject'], { versionActions: ['s3:DeleteObjectVersion'] }),
  CreateMultipartUpload: onObject(createMultipartUpload, ['s3:PutObject'], { input: createMultipartUploadInput }),
  UploadPart: onObject(uploadPart, ['s3:PutObject'], { body: 'stream', input: partInput }),
  UploadPartCopy: onObject(uploadPartCopy, ['s3:PutObject'], { sourceActions: COPY_SOURCE_ACTIONS, input: uploadPartCopyInput }),
  // Not 'xml': the upload is checked before its body is read, and x-amz-checksum-* are the object's.
  CompleteMultipartUpload: onObject(completeMultipartUpload, ['s3:PutObject'], { body: 'xml-after-checks', input: completeMultipartUploadInput }),
  AbortMultipartUpload: onObject(abortMultipartUpload, ['s3:AbortMultipartUpload']),
  ListParts: onObject(listParts, ['s3:ListMultipartUploadParts']),
  ListMultipartUploads: onBucket(listMultipartUploads, ['s3:ListBucketMultipartUploads']),
  GetObjectAttributes: onObject(getObjectAttributes, ['s3:GetObject', 's3:GetObjectAttributes'], {
    versionActions: ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes'],
  }),
  GetObjectTagging: onObject(getObjectTagging, ['s3:GetObjectTagging'], { versionActions: ['s3:GetObjectVersionTagging'] }),
  GetObjectTorrent: onObject(getObjectTorrent, ['s3:GetObjectTorrent']),
  // ACLs (operations/acl.ts; issue 12, acl slice).
  GetBucketAcl: onBucket(getBucketAcl, ['s3:GetBucketAcl']),
  PutBucketAcl: onBucket(putBucketAcl, ['s3:PutBucketAcl'], { body: 'xml' }),
  GetObjectAcl: onObject(getObjectAcl, ['s3:GetObjectAcl'], { versionActions: ['s3:GetObjectVersionAcl'] }),
  PutObjectAcl: onObject(putObjectAcl, ['s3:PutObjectAcl'], { body: 'xml', versionActions: ['s3:PutObjectVersionAcl'] }),
  // acl slice (issue 12): Object Ownership. DeleteBucketOwnershipControls needs s3:PutBucketOwnershipControls.
  PutBucketOwnershipControls: onBucket(putBucketOwnershipControls, ['s3:PutBucketOwnershipControls'], { body: 'xml' }),
  GetBucketOwnershipControls: onBucket(getBucketOwnershipControls, ['s3:GetBucketOwnershipControls']),
  DeleteBucketOwnershipControls: onBucket(deleteBucketOwnershipControls, ['s3:PutBucketOwnershipControls']),
  // Tagging (issue 11, tagging slice). DeleteBucketTagging needs s3:PutBucketTagging (there is no s3:DeleteBucketTagging).
  PutObjectTagging: onObject(putObjectTagging, ['s3:PutObjectTagging'], { body: 'xml', versionActions: ['s3:PutObjectVersionTagging'] }),
  DeleteObjectTagging: onObject(deleteObjectTagging, ['s3:DeleteObjectTagging'], { versionActions: ['s3:DeleteObjectVersionTagging'] }),
  PutBucketTagging: onBucket(putBucketTagging, ['s3:PutBucketTagging'], { body: 'xml' }),
  GetBucketTagging: onBucket(getBucketTagging, ['s3:GetBucketTagging']),
  DeleteBucketTagging: onBucket(deleteBucketTagging, ['s3:PutBucketTagging']),
  // Object lock (issue 11, lock slice). The PUTs need Content-MD5 or x-amz-checksum-* (S3's rule),
  // checked before the body. x-amz-bypass-governance-retention also needs s3:BypassGovernanceRetention:
  // lockCheckOf (object-lock.ts) asks the decision point when the header is sent.
  PutObjectLockConfiguration: onBucket(putObjectLockConfiguration, ['s3:PutBucketObjectLockConfiguration'], { body: 'xml', input: requireBodyIntegrity }),
  GetObjectLockConfiguration: onBucket(getObjectLockConfiguration, ['s3:GetBucketObjectLockConfiguration']),
  PutObjectRetention: onObject(putObjectRetention, ['s3:PutObjectRetention'], { body: 'xml', input: requireBodyIntegrity }),
  GetObjectRetention: onObject(getObjectRetention, ['s3:GetObjectRetention']),
  PutObjectLegalHold: onObject(putObjectLegalHold, ['s3:PutObjectLegalHold'], { body: 'xml', input: requireBodyIntegrity }),
  GetObjectLegalHold: onObject(getObjectLegalHold, ['s3:GetObjectLegalHold']),
  // lifecycle slice (DELETE ?lifecycle is S3's DeleteBucketLifecycle, not …Configuration).
  PutBucketLifecycleConfiguration: onBucket(putBucketLifecycleConfiguration, ['s3:PutLifecycleConfiguration'], { body: 'xml' }),
  GetBucketLifecycleConfiguration: onBucket(getBucketLifecycleConfiguration, ['s3:GetLifecycleConfiguration']),
  DeleteBucketLifecycle: onBucket(deleteBucketLifecycle, ['s3:PutLifecycleConfiguration']),
  // bucket policies and Block Public Access (issue 12, policy slice). DeletePublicAccessBlock needs
  // s3:PutBucketPublicAccessBlock (there is no s3:DeleteBucketPublicAccessBlock).
  PutBucketPolicy: onBucket(putBucketPolicy, ['s3:PutBucketPolicy'], { body: 'json' }),
  GetBucketPolicy: onBucket(getBucketPolicy, ['s3:GetBucketPolicy']),
  DeleteBucketPolicy: onBucket(deleteBucketPolicy, ['s3:DeleteBucketPolicy']),
  GetBucketPolicyStatus: onBucket(getBucketPolicyStatus, ['s3:GetBucketPolicyStatus']),
  PutPublicAccessBlock: onBucket(putPublicAccessBlock, ['s3:PutBucketPublicAccessBlock'], { body: 'xml' }),
  GetPublicAccessBlock: onBucket(getPublicAccessBlock, ['s3:GetBucketPublicAccessBlock']),
  DeletePublicAccessBlock: onBucket(deletePublicAccessBlock, ['s3:PutBucketPublicAccessBlock']),
  // default bucket encryption (issue 13). DeleteBucketEncryption needs s3:PutEncryptionConfiguration (there is no s3:DeleteEncryptionConfiguration).
  PutBucketEncryption: onBucket(putBucketEncryption, ['s3:PutEncryptionConfiguration'], { body: 'xml' }),
  GetBucketEncryption: onBucket(getBucketEncryption, ['s3:GetEncryptionConfiguration']),
  DeleteBucketEncryption: onBucket(deleteBucketEncryption, ['s3:PutEncryptionConfiguration']),
} as const satisfies Record<string, OperationSpec>;

/** The implemented operations: a closed union, from the registry. */
export type OperationName = keyof typeof OPERATIONS;

/** The registry entry of a resolved name, or undefined (not implemented). */
export function operationSpec(name: string): OperationSpec | undefined {
  return Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name as OperationName] : undefined;
}

/** The actions a request needs on its own resource (the version form when it names a versionId). */
export function requiredActions(spec: OperationSpec, versionId: string | undefined): readonly S3Action[] {
  return versionId !== undefined && spec.versionActions ? spec.versionActions : spec.actions;
}
