// GetObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
// The tag set of the version (`versionId`, else the latest) as a Tagging document; an empty
// TagSet for a version without tags. Metadata only: no data is read. Clients read it before
// copying (`aws s3 cp`/`mv` between S3 locations above the multipart threshold, --copy-props).
import type { ObjectRequest, S3Response } from '../context.js';
import { taggingXml } from '../tagging.js';
import { taggableVersion, versionHeader } from '../object-tagging.js';

export async function getObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  const rec = await taggableVersion(ctx, ctx.endpoint.versionId);
  return { status: 200, headers: versionHeader(rec), body: taggingXml(rec.tags ?? []) };
}
