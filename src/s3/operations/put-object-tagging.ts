// PutObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
// Replaces the tag set of one version (`versionId`, else the latest); an empty TagSet removes the
// tags. The document is checked (MalformedXML, InvalidTag, BadRequest) before the version is.
import type { ObjectRequest, S3Response } from '../context.js';
import { retagVersion, versionHeader } from '../object-tagging.js';
import { parseTaggingXml } from '../tagging.js';

export async function putObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  const tags = parseTaggingXml(ctx.bodyText ?? '', 'object');
  const rec = await retagVersion(ctx, ctx.endpoint.versionId, tags);
  return { status: 200, headers: versionHeader(rec) };
}
