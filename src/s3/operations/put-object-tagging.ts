// PutObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
// Replaces the tag set of one version (`versionId`, else the latest); an empty TagSet removes the
// tags. The document is checked (MalformedXML, InvalidTag, BadRequest) before the version is.
import type { ObjectRequest, S3Response } from '../context.js';
import { parseTaggingXml } from '../tagging.js';
import { noTaggableVersion, versionHeader } from '../object-tagging.js';

export async function putObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  const tags = parseTaggingXml(ctx.bodyText ?? '', 'object');
  const versionId = ctx.endpoint.versionId;
  const rec = await ctx.store.updateObject(ctx.bucket, ctx.key, versionId, { tags: tags.length > 0 ? tags : null });
  if (rec === undefined) throw await noTaggableVersion(ctx, versionId);
  return { status: 200, headers: versionHeader(ctx, rec) };
}
