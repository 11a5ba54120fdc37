// PutBucketVersioning — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html
// Status Enabled or Suspended (a bucket never returns to "never enabled"). MFA delete needs an MFA
// device, which Strata has none of: enabling it is refused (InvalidRequest without x-amz-mfa, as AWS
// does; with one, no device can verify it: AccessDenied); MfaDelete Disabled is what every bucket is.
import type { BucketRequest, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { parseXml, text, token } from '../xml.js';

export async function putBucketVersioning(ctx: BucketRequest): Promise<S3Response> {
  const root = parseXml(ctx.bodyText ?? '', 'VersioningConfiguration');
  const status = token(text(root['Status']));
  const mfaDelete = token(text(root['MfaDelete']));
  if (status !== undefined && status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error('IllegalVersioningConfigurationException', 'The Versioning element must be specified');
  }
  if (mfaDelete !== undefined && mfaDelete !== 'Enabled' && mfaDelete !== 'Disabled') throw new S3Error('MalformedXML');
  if (mfaDelete === 'Enabled') {
    if (header(ctx, 'x-amz-mfa') === undefined) {
      throw new S3Error('InvalidRequest', 'MFA Delete can only be enabled with the x-amz-mfa header, and this server has no MFA devices.');
    }
    throw new S3Error('AccessDenied', 'Mfa Authentication must be used for this request');
  }
  if (status !== undefined) await ctx.store.updateBucket(ctx.bucket, { versioning: status });
  return { status: 200 };
}
