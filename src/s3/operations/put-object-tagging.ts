// PutObjectTagging — https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
// Replaces the tag set of one version (`versionId`, else the latest); an empty TagSet removes the
// tags. The document is checked (MalformedXML, InvalidTag, BadRequest) before the version is.
// When a policy tests s3:RequestObjectTag keys the authorize stage deferred its decision (the tags
// are this body): it is completed here, before anything else is answered (s3/access.ts).
import type { Tag } from '../../store/types.js';
import { checkDeferredAccess } from '../access.js';
import type { ObjectRequest, S3Response } from '../context.js';
import { retagVersion, versionHeader } from '../object-tagging.js';
import { parseTaggingXml } from '../tagging.js';

export async function putObjectTagging(ctx: ObjectRequest): Promise<S3Response> {
  let tags: Tag[];
  try {
    tags = parseTaggingXml(ctx.bodyText ?? '', 'object');
  } catch (err) {
    // A caller who may not tag without the requested tags learns nothing of its document.
    await checkDeferredAccess(ctx, undefined);
    throw err;
  }
  await checkDeferredAccess(ctx, tags);
  const rec = await retagVersion(ctx, ctx.endpoint.versionId, tags);
  return { status: 200, headers: versionHeader(rec) };
}
