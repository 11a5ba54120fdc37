// The operation registry: every implemented operation, its handler and its body policy. Adding an
// operation = one file in operations/ + one line here. Resolved names without an entry are
// answered 501 NotImplemented by the pipeline.
import type { OperationSpec } from './context.js';
import { copyObject } from './operations/copy-object.js';
import { createBucket } from './operations/create-bucket.js';
import { deleteBucket } from './operations/delete-bucket.js';
import { deleteObject } from './operations/delete-object.js';
import { deleteObjects } from './operations/delete-objects.js';
import { getBucketLocation } from './operations/get-bucket-location.js';
import { getBucketVersioning } from './operations/get-bucket-versioning.js';
import { getObject } from './operations/get-object.js';
import { headBucket } from './operations/head-bucket.js';
import { listBuckets } from './operations/list-buckets.js';
import { listObjectVersions } from './operations/list-object-versions.js';
import { listObjects } from './operations/list-objects.js';
import { listObjectsV2 } from './operations/list-objects-v2.js';
import { putObject } from './operations/put-object.js';

export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  ListBuckets: { handler: listBuckets, body: 'none' },
  CreateBucket: { handler: createBucket, body: 'xml' },
  DeleteBucket: { handler: deleteBucket, body: 'none' },
  HeadBucket: { handler: headBucket, body: 'none' },
  GetBucketLocation: { handler: getBucketLocation, body: 'none' },
  GetBucketVersioning: { handler: getBucketVersioning, body: 'none' },
  ListObjects: { handler: listObjects, body: 'none' },
  ListObjectsV2: { handler: listObjectsV2, body: 'none' },
  ListObjectVersions: { handler: listObjectVersions, body: 'none' },
  DeleteObjects: { handler: deleteObjects, body: 'xml' },
  PutObject: { handler: putObject, body: 'stream' },
  CopyObject: { handler: copyObject, body: 'none' },
  GetObject: { handler: getObject, body: 'none' },
  HeadObject: { handler: getObject, body: 'none' },
  DeleteObject: { handler: deleteObject, body: 'none' },
};
