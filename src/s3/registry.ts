// The operation registry: every implemented operation, its handler and its body policy. Adding an
// operation = one file in operations/ + one line here. Resolved names without an entry are
// answered 501 NotImplemented by the pipeline.
import type { OperationSpec } from './context.js';
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
import { getObject } from './operations/get-object.js';
import { getObjectTagging } from './operations/get-object-tagging.js';
import { getObjectTorrent } from './operations/get-object-torrent.js';
import { headBucket } from './operations/head-bucket.js';
import { listBuckets } from './operations/list-buckets.js';
import { listObjectVersions } from './operations/list-object-versions.js';
import { listObjects } from './operations/list-objects.js';
import { listObjectsV2 } from './operations/list-objects-v2.js';
import { preflight } from './operations/preflight.js';
import { putBucketCors } from './operations/put-bucket-cors.js';
import { postObject } from './operations/post-object.js';
import { putObject } from './operations/put-object.js';
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

export const OPERATIONS: Readonly<Record<string, OperationSpec>> = {
  ListBuckets: { handler: listBuckets, body: 'none' },
  CreateBucket: { handler: createBucket, body: 'xml' },
  DeleteBucket: { handler: deleteBucket, body: 'none' },
  HeadBucket: { handler: headBucket, body: 'none' },
  GetBucketLocation: { handler: getBucketLocation, body: 'none' },
  GetBucketVersioning: { handler: getBucketVersioning, body: 'none' },
  PutBucketCors: { handler: putBucketCors, body: 'xml' },
  GetBucketCors: { handler: getBucketCors, body: 'none' },
  DeleteBucketCors: { handler: deleteBucketCors, body: 'none' },
  // Configurations no bucket can have yet: what S3 answers without one (unconfigured-bucket.ts).
  GetBucketLogging: { handler: getBucketLogging, body: 'none' },
  GetBucketNotificationConfiguration: { handler: getBucketNotificationConfiguration, body: 'none' },
  GetBucketRequestPayment: { handler: getBucketRequestPayment, body: 'none' },
  GetBucketAccelerateConfiguration: { handler: getBucketAccelerateConfiguration, body: 'none' },
  GetBucketWebsite: { handler: getBucketWebsite, body: 'none' },
  GetBucketReplication: { handler: getBucketReplication, body: 'none' },
  ListBucketAnalyticsConfigurations: { handler: listBucketAnalyticsConfigurations, body: 'none' },
  ListBucketMetricsConfigurations: { handler: listBucketMetricsConfigurations, body: 'none' },
  ListBucketInventoryConfigurations: { handler: listBucketInventoryConfigurations, body: 'none' },
  ListBucketIntelligentTieringConfigurations: { handler: listBucketIntelligentTieringConfigurations, body: 'none' },
  GetBucketAnalyticsConfiguration: { handler: getBucketConfigurationById, body: 'none' },
  GetBucketMetricsConfiguration: { handler: getBucketConfigurationById, body: 'none' },
  GetBucketInventoryConfiguration: { handler: getBucketConfigurationById, body: 'none' },
  GetBucketIntelligentTieringConfiguration: { handler: getBucketConfigurationById, body: 'none' },
  PreflightRequest: { handler: preflight, body: 'none' },
  ListObjects: { handler: listObjects, body: 'none' },
  ListObjectsV2: { handler: listObjectsV2, body: 'none' },
  ListObjectVersions: { handler: listObjectVersions, body: 'none' },
  DeleteObjects: { handler: deleteObjects, body: 'xml' },
  PutObject: { handler: putObject, body: 'stream' },
  PostObject: { handler: postObject, body: 'none' },
  CopyObject: { handler: copyObject, body: 'none' },
  GetObject: { handler: getObject, body: 'none' },
  HeadObject: { handler: getObject, body: 'none' },
  DeleteObject: { handler: deleteObject, body: 'none' },
  CreateMultipartUpload: { handler: createMultipartUpload, body: 'none' },
  UploadPart: { handler: uploadPart, body: 'stream' },
  UploadPartCopy: { handler: uploadPartCopy, body: 'none' },
  // Not 'xml': there x-amz-checksum-* would be checked against the XML, but here it is the object's.
  CompleteMultipartUpload: { handler: completeMultipartUpload, body: 'none' },
  AbortMultipartUpload: { handler: abortMultipartUpload, body: 'none' },
  ListParts: { handler: listParts, body: 'none' },
  ListMultipartUploads: { handler: listMultipartUploads, body: 'none' },
  GetObjectAttributes: { handler: getObjectAttributes, body: 'none' },
  GetObjectTagging: { handler: getObjectTagging, body: 'none' },
  GetObjectTorrent: { handler: getObjectTorrent, body: 'none' },
};
