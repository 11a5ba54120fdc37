// The registry's table: every implemented operation names the IAM actions it needs (as AWS's
// "Actions, resources, and condition keys for Amazon S3" names them) and its resource kind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OperationSpec } from './context.js';
import type { OperationName } from './registry.js';
import { OPERATIONS, operationSpec, requiredActions } from './registry.js';

/** Expected actions per operation: [resource kind, actions, with versionId, on a copy source]. */
const EXPECTED: Record<OperationName, [string, string[], string[]?, string[]?]> = {
  ListBuckets: ['service', ['s3:ListAllMyBuckets']],
  CreateBucket: ['bucket', ['s3:CreateBucket']],
  DeleteBucket: ['bucket', ['s3:DeleteBucket']],
  HeadBucket: ['bucket', ['s3:ListBucket']],
  GetBucketLocation: ['bucket', ['s3:GetBucketLocation']],
  GetBucketVersioning: ['bucket', ['s3:GetBucketVersioning']],
  PutBucketVersioning: ['bucket', ['s3:PutBucketVersioning']],
  PutBucketCors: ['bucket', ['s3:PutBucketCORS']],
  GetBucketCors: ['bucket', ['s3:GetBucketCORS']],
  DeleteBucketCors: ['bucket', ['s3:PutBucketCORS']],
  GetBucketLogging: ['bucket', ['s3:GetBucketLogging']],
  GetBucketNotificationConfiguration: ['bucket', ['s3:GetBucketNotification']],
  GetBucketRequestPayment: ['bucket', ['s3:GetBucketRequestPayment']],
  GetBucketAccelerateConfiguration: ['bucket', ['s3:GetAccelerateConfiguration']],
  GetBucketWebsite: ['bucket', ['s3:GetBucketWebsite']],
  GetBucketReplication: ['bucket', ['s3:GetReplicationConfiguration']],
  ListBucketAnalyticsConfigurations: ['bucket', ['s3:GetAnalyticsConfiguration']],
  ListBucketMetricsConfigurations: ['bucket', ['s3:GetMetricsConfiguration']],
  ListBucketInventoryConfigurations: ['bucket', ['s3:GetInventoryConfiguration']],
  ListBucketIntelligentTieringConfigurations: ['bucket', ['s3:GetIntelligentTieringConfiguration']],
  GetBucketAnalyticsConfiguration: ['bucket', ['s3:GetAnalyticsConfiguration']],
  GetBucketMetricsConfiguration: ['bucket', ['s3:GetMetricsConfiguration']],
  GetBucketInventoryConfiguration: ['bucket', ['s3:GetInventoryConfiguration']],
  GetBucketIntelligentTieringConfiguration: ['bucket', ['s3:GetIntelligentTieringConfiguration']],
  PreflightRequest: ['bucket', []],
  ListObjects: ['bucket', ['s3:ListBucket']],
  ListObjectsV2: ['bucket', ['s3:ListBucket']],
  ListObjectVersions: ['bucket', ['s3:ListBucketVersions']],
  DeleteObjects: ['bucket', ['s3:DeleteObject']],
  PutObject: ['object', ['s3:PutObject']],
  PostObject: ['bucket', ['s3:PutObject']],
  CopyObject: ['object', ['s3:PutObject'], undefined, ['s3:GetObject']],
  GetObject: ['object', ['s3:GetObject'], ['s3:GetObjectVersion']],
  HeadObject: ['object', ['s3:GetObject'], ['s3:GetObjectVersion']],
  DeleteObject: ['object', ['s3:DeleteObject'], ['s3:DeleteObjectVersion']],
  CreateMultipartUpload: ['object', ['s3:PutObject']],
  UploadPart: ['object', ['s3:PutObject']],
  UploadPartCopy: ['object', ['s3:PutObject'], undefined, ['s3:GetObject']],
  CompleteMultipartUpload: ['object', ['s3:PutObject']],
  AbortMultipartUpload: ['object', ['s3:AbortMultipartUpload']],
  ListParts: ['object', ['s3:ListMultipartUploadParts']],
  ListMultipartUploads: ['bucket', ['s3:ListBucketMultipartUploads']],
  GetObjectAttributes: ['object', ['s3:GetObject', 's3:GetObjectAttributes'], ['s3:GetObjectVersion', 's3:GetObjectVersionAttributes']],
  GetObjectTagging: ['object', ['s3:GetObjectTagging'], ['s3:GetObjectVersionTagging']],
  GetObjectTorrent: ['object', ['s3:GetObjectTorrent']],
  GetBucketAcl: ['bucket', ['s3:GetBucketAcl']],
  PutBucketAcl: ['bucket', ['s3:PutBucketAcl']],
  GetObjectAcl: ['object', ['s3:GetObjectAcl'], ['s3:GetObjectVersionAcl']],
  PutObjectAcl: ['object', ['s3:PutObjectAcl'], ['s3:PutObjectVersionAcl']],
  PutBucketOwnershipControls: ['bucket', ['s3:PutBucketOwnershipControls']],
  GetBucketOwnershipControls: ['bucket', ['s3:GetBucketOwnershipControls']],
  DeleteBucketOwnershipControls: ['bucket', ['s3:PutBucketOwnershipControls']],
  PutObjectTagging: ['object', ['s3:PutObjectTagging'], ['s3:PutObjectVersionTagging']],
  DeleteObjectTagging: ['object', ['s3:DeleteObjectTagging'], ['s3:DeleteObjectVersionTagging']],
  PutBucketTagging: ['bucket', ['s3:PutBucketTagging']],
  GetBucketTagging: ['bucket', ['s3:GetBucketTagging']],
  DeleteBucketTagging: ['bucket', ['s3:PutBucketTagging']],
  // lock slice (issue 11): one action each, with or without versionId (AWS has no version variants).
  PutObjectLockConfiguration: ['bucket', ['s3:PutBucketObjectLockConfiguration']],
  GetObjectLockConfiguration: ['bucket', ['s3:GetBucketObjectLockConfiguration']],
  PutObjectRetention: ['object', ['s3:PutObjectRetention']],
  GetObjectRetention: ['object', ['s3:GetObjectRetention']],
  PutObjectLegalHold: ['object', ['s3:PutObjectLegalHold']],
  GetObjectLegalHold: ['object', ['s3:GetObjectLegalHold']],
  // lifecycle slice
  PutBucketLifecycleConfiguration: ['bucket', ['s3:PutLifecycleConfiguration']],
  GetBucketLifecycleConfiguration: ['bucket', ['s3:GetLifecycleConfiguration']],
  DeleteBucketLifecycle: ['bucket', ['s3:PutLifecycleConfiguration']],
  PutBucketPolicy: ['bucket', ['s3:PutBucketPolicy']],
  GetBucketPolicy: ['bucket', ['s3:GetBucketPolicy']],
  DeleteBucketPolicy: ['bucket', ['s3:DeleteBucketPolicy']],
  GetBucketPolicyStatus: ['bucket', ['s3:GetBucketPolicyStatus']],
  PutPublicAccessBlock: ['bucket', ['s3:PutBucketPublicAccessBlock']],
  GetPublicAccessBlock: ['bucket', ['s3:GetBucketPublicAccessBlock']],
  DeletePublicAccessBlock: ['bucket', ['s3:PutBucketPublicAccessBlock']],
  PutBucketEncryption: ['bucket', ['s3:PutEncryptionConfiguration']],
  GetBucketEncryption: ['bucket', ['s3:GetEncryptionConfiguration']],
  DeleteBucketEncryption: ['bucket', ['s3:PutEncryptionConfiguration']],
};

describe('registry', () => {
  it('registry › every operation → its IAM actions, version actions, copy-source actions and resource kind', () => {
    assert.deepEqual(Object.keys(OPERATIONS).sort(), Object.keys(EXPECTED).sort());
    for (const [name, [resource, actions, versionActions, sourceActions]] of Object.entries(EXPECTED)) {
      const spec = operationSpec(name)!;
      assert.equal(spec.resource, resource, name);
      assert.deepEqual(spec.actions, actions, name);
      assert.deepEqual(spec.versionActions, versionActions, name);
      assert.deepEqual(spec.sourceActions, sourceActions, name);
      assert.deepEqual(requiredActions(spec, 'v1'), versionActions ?? actions, `${name} with versionId`);
      for (const a of [...actions, ...(versionActions ?? []), ...(sourceActions ?? [])]) assert.match(a, /^s3:[A-Z][A-Za-z]+$/, name);
    }
  });

  it('registry › every operation but a CORS preflight needs at least one action (nothing passes authorize unasked)', () => {
    for (const [name, spec] of Object.entries(OPERATIONS)) {
      if (name === 'PreflightRequest') continue;
      assert.ok(spec.actions.length > 0, name);
    }
  });

  it('registry › operations that must not require an existing bucket: CreateBucket, ListBuckets, PreflightRequest', () => {
    const optional = Object.entries(OPERATIONS)
      .filter(([, s]) => !s.bucketMustExist)
      .map(([n]) => n)
      .sort();
    assert.deepEqual(optional, ['CreateBucket', 'ListBuckets', 'PreflightRequest']);
  });

  it('registry › body policies: XML read by the pipeline, CompleteMultipartUpload after its checks, uploads streamed, PostObject a form', () => {
    const byPolicy: Record<string, string[]> = {};
    for (const [name, spec] of Object.entries(OPERATIONS)) (byPolicy[spec.body] ??= []).push(name);
    assert.deepEqual(byPolicy.xml?.sort(), [
      'CreateBucket',
      'DeleteObjects',
      'PutBucketAcl',
      'PutBucketCors',
      'PutBucketEncryption',
      'PutBucketLifecycleConfiguration',
      'PutBucketOwnershipControls',
      'PutBucketTagging',
      'PutBucketVersioning',
      'PutObjectAcl',
      'PutObjectLegalHold',
      'PutObjectLockConfiguration',
      'PutObjectRetention',
      'PutObjectTagging',
      'PutPublicAccessBlock',
    ]);
    assert.deepEqual(byPolicy['xml-after-checks'], ['CompleteMultipartUpload']);
    assert.deepEqual(byPolicy.json, ['PutBucketPolicy']);
    assert.deepEqual(byPolicy.stream?.sort(), ['PutObject', 'UploadPart']);
    assert.deepEqual(byPolicy.form, ['PostObject']);
  });

  it('registry › the operations whose handlers take a typed input have its parser (s3/inputs.ts)', () => {
    const withInput = Object.entries(OPERATIONS as Record<string, OperationSpec>)
      .filter(([, s]) => s.input !== undefined)
      .map(([n]) => n)
      .sort();
    assert.deepEqual(withInput, [
      'CompleteMultipartUpload',
      'CopyObject',
      'CreateMultipartUpload',
      'GetObject',
      'HeadObject',
      'PutObject',
      // lock slice: their `input` refuses a body without Content-MD5 / x-amz-checksum-* before it is read
      'PutObjectLegalHold',
      'PutObjectLockConfiguration',
      'PutObjectRetention',
      'UploadPart',
      'UploadPartCopy',
    ]);
  });

  it('operationSpec › names without an entry (and Object.prototype names) → undefined', () => {
    for (const name of ['PutBucketReplication', 'MethodNotAllowed', 'constructor', 'toString', '__proto__']) assert.equal(operationSpec(name), undefined, name);
  });
});
