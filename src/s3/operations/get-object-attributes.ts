// GetObjectAttributes — https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectAttributes.html
// HEAD-like metadata in XML, only the attributes named in x-amz-object-attributes. The ETag is
// unquoted here, a composite checksum is reported without its `-N` part count, and the parts of a
// multipart object with a COMPOSITE checksum are listed with their own checksums. An SSE-C object's
// attributes need its customer's key (missing: 400 InvalidRequest, wrong: 403), as on AWS.
import type { ObjectRequest, S3Response } from '../context.js';
import { header } from '../context.js';
import { S3Error } from '../errors.js';
import { httpDate } from '../object-meta.js';
import { MAX_LIST_PARTS, bareEtag, checksumFields, checksumTypeOf, parseCount, withoutPartCount } from '../multipart.js';
import type { XmlNode } from '../xml.js';
import { loadObject, readVersionHeader } from '../object-read.js';
import { checkCustomerKey } from '../sse.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** The x-amz-object-attributes list (comma-separated, case-insensitive names), validated. */
export function parseObjectAttributes(value: string | undefined): Set<Attribute> {
  const out = new Set<Attribute>();
  for (const raw of (value ?? '').split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const known = ATTRIBUTES.find((a) => a.toLowerCase() === name.toLowerCase());
    if (!known) throw new S3Error('InvalidArgument', 'Invalid attribute name specified.', { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name });
    out.add(known);
  }
  if (out.size === 0) {
    throw new S3Error('InvalidArgument', 'At least one attribute must be specified.', { ArgumentName: 'x-amz-object-attributes' });
  }
  return out;
}

export async function getObjectAttributes(ctx: ObjectRequest): Promise<S3Response> {
  const wanted = parseObjectAttributes(ctx.headers['x-amz-object-attributes'] === undefined ? undefined : String(ctx.headers['x-amz-object-attributes']));
  const maxParts = Math.min(parseCount(header(ctx, 'x-amz-max-parts'), 'x-amz-max-parts', MAX_LIST_PARTS), MAX_LIST_PARTS);
  const marker = parseCount(header(ctx, 'x-amz-part-number-marker'), 'x-amz-part-number-marker', 0);
  const handle = await loadObject(ctx, ctx.bucket, ctx.key, ctx.endpoint.versionId);
  handle.release(); // metadata only: no data is read
  const rec = handle.record;
  await checkCustomerKey(ctx, rec.bucket, rec.key, rec.sse);

  const content: XmlNode = {};
  if (wanted.has('ETag')) content['ETag'] = bareEtag(rec.etag);
  if (wanted.has('Checksum') && rec.meta.checksums && Object.keys(rec.meta.checksums).length > 0) {
    const values = Object.values(rec.meta.checksums);
    const stripped: Record<string, string> = {};
    for (const [alg, v] of Object.entries(rec.meta.checksums)) stripped[alg] = withoutPartCount(v);
    content['Checksum'] = { ...checksumFields(stripped), ChecksumType: checksumTypeOf(values[0]!) };
  }
  if (wanted.has('ObjectParts') && rec.parts) {
    // Amazon S3 lists the parts (like ListParts, each with its checksum) only for an object with a
    // COMPOSITE additional checksum; otherwise ObjectParts carries the count and paging alone. Part
    // checksums are kept with the object since format 3 (objects completed before: number and size).
    const [alg, objectValue] = Object.entries(rec.meta.checksums ?? {})[0] ?? [];
    const listsParts = objectValue !== undefined && checksumTypeOf(objectValue) === 'COMPOSITE';
    const completed = listsParts ? await ctx.store.getCompletedUpload(rec.bucket, rec.key) : undefined;
    const partChecksums =
      completed && completed.versionId === rec.versionId && completed.partChecksums.length === rec.parts.length ? completed.partChecksums : undefined;
    const numbered = rec.parts.map((size, i) => {
      const v = alg === undefined ? undefined : partChecksums?.[i]?.[alg];
      return { PartNumber: i + 1, Size: size, ...(v === undefined ? {} : checksumFields({ [alg!]: v })) };
    });
    const after = numbered.filter((p) => p.PartNumber > marker);
    const page = after.slice(0, maxParts);
    content['ObjectParts'] = {
      PartsCount: rec.parts.length,
      PartNumberMarker: marker,
      NextPartNumberMarker: page.length > 0 ? page[page.length - 1]!.PartNumber : undefined,
      MaxParts: maxParts,
      IsTruncated: after.length > page.length,
      Part: listsParts ? page : undefined,
    };
  }
  if (wanted.has('StorageClass')) content['StorageClass'] = rec.storageClass;
  if (wanted.has('ObjectSize')) content['ObjectSize'] = rec.size;

  const headers: Record<string, string> = { 'last-modified': httpDate(rec.lastModified), ...readVersionHeader(ctx, rec) };
  return { status: 200, headers, body: { root: 'GetObjectAttributesResponse', content } };
}
