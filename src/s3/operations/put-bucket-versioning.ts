// PutBucketVersioning — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
// Status Enabled or Suspended (a bucket never returns to "never enabled"): no Status (or an empty one)
// is IllegalVersioningConfigurationException "The Versioning element must be specified", another
// value MalformedXML, as S3 answers. MFA delete needs an MFA device, which Strata has none of: enabling
// it is refused with S3's AccessDenied "Mfa Authentication must be used for this request" (what S3
// answers without x-amz-mfa; with one, no device can verify it); MfaDelete Disabled is what every
// bucket is.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { parseXml, text, token } from '../xml.js';

export async function putBucketVersioning(ctx: BucketRequest): Promise<S3Response> {
  const root = parseXml(ctx.bodyText ?? '', 'VersioningConfiguration');
  const status = token(text(root['Status']));
  const mfaDelete = token(text(root['MfaDelete']));
  if (status === undefined || status === '') {
    throw new S3Error('IllegalVersioningConfigurationException', 'The Versioning element must be specified');
  }
  if (status !== 'Enabled' && status !== 'Suspended') throw new S3Error('MalformedXML');
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw new S3Error('MalformedXML');
  if (mfaDelete === 'Enabled') throw new S3Error('AccessDenied', 'Mfa Authentication must be used for this request');
  await ctx.store.updateBucket(ctx.bucket, { versioning: status });
  return { status: 200 };
}
