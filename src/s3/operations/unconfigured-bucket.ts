// Bucket configurations Strata cannot hold yet (logging, notifications, request payment, transfer
// acceleration, website, replication, analytics, metrics, inventory, Intelligent-Tiering): their
// GETs answer what S3 answers for a bucket that has none, since tools probe them (aws cli, rclone,
// s3cmd info, Terraform). One small file for the family rather than ten copies of the same lines;
// each handler names its AWS API page. PUTs and DELETEs stay unregistered (501 NotImplemented).
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import type { XmlNode } from '../xml.js';

/** A 200 answer with `root` holding `content` (the pipeline has checked that the bucket exists). */
function emptyConfig(root: string, content: XmlNode = {}) {
  return async (_ctx: BucketRequest): Promise<S3Response> => {
    return { status: 200, body: { root, content } };
  };
}

/** A 404 with `code` (after checking that the bucket exists). */
function notFound(code: 'NoSuchWebsiteConfiguration' | 'ReplicationConfigurationNotFoundError') {
  return async (ctx: BucketRequest): Promise<S3Response> => {
    throw new S3Error(code, undefined, { BucketName: ctx.bucket });
  };
}

/**
 * The List form (no `id`): an empty, complete list, echoing a continuation token that was sent.
 * The Get form (`id=`): NoSuchConfiguration, as no configuration exists.
 */
function emptyList(root: string) {
  return async (ctx: BucketRequest): Promise<S3Response> => {
    return { status: 200, body: { root, content: { IsTruncated: false, ContinuationToken: ctx.query.get('continuation-token') || undefined } } };
  };
}

async function noSuchConfiguration(ctx: BucketRequest): Promise<S3Response> {
  throw new S3Error('NoSuchConfiguration', undefined, { BucketName: ctx.bucket });
}

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLogging.html — logging off: an empty BucketLoggingStatus. */
export const getBucketLogging = emptyConfig('BucketLoggingStatus');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketNotificationConfiguration.html — no notifications: an empty NotificationConfiguration. */
export const getBucketNotificationConfiguration = emptyConfig('NotificationConfiguration');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketRequestPayment.html — the bucket owner pays (the default). */
export const getBucketRequestPayment = emptyConfig('RequestPaymentConfiguration', { Payer: 'BucketOwner' });
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAccelerateConfiguration.html — never set: no Status. */
export const getBucketAccelerateConfiguration = emptyConfig('AccelerateConfiguration');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketWebsite.html */
export const getBucketWebsite = notFound('NoSuchWebsiteConfiguration');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketReplication.html */
export const getBucketReplication = notFound('ReplicationConfigurationNotFoundError');

/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketAnalyticsConfigurations.html */
export const listBucketAnalyticsConfigurations = emptyList('ListBucketAnalyticsConfigurationResult');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketMetricsConfigurations.html */
export const listBucketMetricsConfigurations = emptyList('ListMetricsConfigurationsResult');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketInventoryConfigurations.html */
export const listBucketInventoryConfigurations = emptyList('ListInventoryConfigurationsResult');
/** https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBucketIntelligentTieringConfigurations.html */
export const listBucketIntelligentTieringConfigurations = emptyList('ListBucketIntelligentTieringConfigurationsOutput');

/**
 * GetBucketAnalyticsConfiguration, GetBucketMetricsConfiguration, GetBucketInventoryConfiguration,
 * GetBucketIntelligentTieringConfiguration (`?analytics&id=…` and the like): NoSuchConfiguration.
 */
export const getBucketConfigurationById = noSuchConfiguration;
