// DeleteObjects — https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
// Up to 1000 keys; Content-MD5 is not demanded (2025 SDKs send a CRC32 instead); per-key errors.
// Each key is a DeleteObject (delete markers, versionId, object lock with the request's
// x-amz-bypass-governance-retention); a Deleted entry reports DeleteMarker / DeleteMarkerVersionId.
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error, toS3Error } from '../errors.js';
import type { XmlNode } from '../xml.js';
import { children, parseXml, text, token } from '../xml.js';
import { lockCheckOf } from '../object-lock.js';
import { checkVersionId } from '../object-read.js';

const MAX_KEYS = 1000;

export async function deleteObjects(ctx: BucketRequest): Promise<S3Response> {
  const bucket = ctx.bucket;
  // Keys and version ids are strings, taken byte for byte (`<Key> a</Key>` names " a"); Quiet is
  // a boolean, whose surrounding whitespace XML Schema ignores.
  const root = parseXml(ctx.bodyText ?? '', 'Delete', { maxElements: 8 + MAX_KEYS * 8 });
  const objects = children(root, 'Object');
  if (objects.length === 0 || objects.length > MAX_KEYS) throw new S3Error('MalformedXML');
  const quiet = (token(text(root['Quiet'])) ?? 'false').toLowerCase() === 'true';
  const entries = objects.map((o) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new S3Error('MalformedXML');
    const node = o as XmlNode;
    const key = text(node['Key']);
    if (key === undefined) throw new S3Error('MalformedXML');
    return { key, versionId: text(node['VersionId']) };
  });

  const deleted: XmlNode[] = [];
  const errors: XmlNode[] = [];
  // Once the metadata store answers Busy (locked by another process past the retry window), the
  // other keys are not tried: each would wait that long again. With nothing deleted yet the whole
  // request is SlowDown (SDKs retry it); otherwise the rest are listed with that error.
  let busy: S3Error | undefined;
  let done = 0;
  const versioned = ctx.bucketRecord.versioning !== '';
  for (const { key, versionId } of entries) {
    if (key === '' || Buffer.byteLength(key) > 1024) {
      errors.push({ Key: key, VersionId: versionId, Code: 'InvalidArgument', Message: 'Invalid key.' });
      continue;
    }
    if (busy) {
      errors.push({ Key: key, VersionId: versionId, Code: busy.code, Message: busy.message });
      continue;
    }
    try {
      checkVersionId(versionId);
      const out = await ctx.store.deleteObject(bucket, key, { versionId, lock: lockCheckOf(ctx, key) });
      done++;
      if (!quiet) {
        const entry: XmlNode = { Key: key, VersionId: versionId };
        if (out.deleteMarker) {
          entry['DeleteMarker'] = true;
          // The marker added (no versionId) or the marker removed (its version id).
          if (out.versionId !== undefined && (versionId !== undefined || versioned)) entry['DeleteMarkerVersionId'] = out.versionId;
        }
        deleted.push(entry);
      }
    } catch (err) {
      const s3err = toS3Error(err, { bucket, key });
      if (s3err !== undefined && s3err.code !== 'SlowDown' && s3err.status < 500) {
        // A refusal of this key (a malformed version id, object lock): reported, the others go on.
        errors.push({ Key: key, VersionId: versionId, Code: s3err.code, Message: s3err.message });
        continue;
      }
      if (s3err?.code === 'SlowDown') {
        if (done === 0) throw s3err;
        busy = s3err;
        errors.push({ Key: key, VersionId: versionId, Code: busy.code, Message: busy.message });
        continue;
      }
      ctx.log.error({ err, key }, 'DeleteObjects: key failed');
      errors.push({ Key: key, VersionId: versionId, Code: 'InternalError', Message: 'We encountered an internal error. Please try again.' });
    }
  }
  return { status: 200, body: { root: 'DeleteResult', content: { Deleted: deleted, Error: errors } } };
}
