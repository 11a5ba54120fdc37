// Object and bucket tags: the x-amz-tagging header (a URL-encoded query string), the Tagging XML
// document (PutObjectTagging, PutBucketTagging, the POST form's `tagging` field), S3's limits and
// the stored form of a bucket's tags. See docs/s3-compatibility.md, "Tagging".
import type { Store } from '../store/store.js';
import type { ObjectRecord, Tag } from '../store/types.js';
import type { RequestContext } from './context.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import type { ExtrasSource } from './version-extras.js';
import type { XmlBody, XmlNode, XmlValue } from './xml.js';
import { children, parseXml } from './xml.js';

/** The name under which a bucket's tags are stored (bucket config, JSON list of {key, value}). */
export const TAGGING_CONFIG_NAME = 'tagging';

export const MAX_OBJECT_TAGS = 10;
export const MAX_BUCKET_TAGS = 50;
const MAX_KEY_LENGTH = 128;
const MAX_VALUE_LENGTH = 256;

/**
 * S3's tag alphabet: "Unicode letters or numbers, white space, and the following symbols:
 * _ . : / = + - @" (the pattern AWS's API references give as [\p{L}\p{Z}\p{N}_.:/=+\-@]).
 */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** What a tag set belongs to: the limits and messages differ. */
export type TagOwner = 'object' | 'bucket';

/**
 * Checks a tag set against S3's limits: at most 10 (object) or 50 (bucket) tags (BadRequest); a key
 * of 1 to 128 and a value of 0 to 256 characters of S3's alphabet, counted as S3 does in UTF-16
 * positions; no `aws:` prefix (any case); unique keys (InvalidTag, with the offending TagKey).
 */
export function validateTags(tags: readonly Tag[], owner: TagOwner): void {
  if (owner === 'object' && tags.length > MAX_OBJECT_TAGS) throw new S3Error('BadRequest', `Object tags cannot be greater than ${MAX_OBJECT_TAGS}`);
  if (owner === 'bucket' && tags.length > MAX_BUCKET_TAGS) throw new S3Error('BadRequest', `Bucket tag count cannot be greater than ${MAX_BUCKET_TAGS}`);
  const seen = new Set<string>();
  for (const { key, value } of tags) {
    // String length = UTF-16 code units: "in UTF-16, characters consume either 1 or 2 character positions".
    if (key.length < 1 || key.length > MAX_KEY_LENGTH || !TAG_TEXT.test(key)) {
      throw new S3Error('InvalidTag', 'The TagKey you have provided is invalid', { TagKey: key });
    }
    if (value.length > MAX_VALUE_LENGTH || !TAG_TEXT.test(value)) {
      throw new S3Error('InvalidTag', 'The TagValue you have provided is invalid', { TagKey: key, TagValue: value });
    }
    if (key.slice(0, 4).toLowerCase() === 'aws:') throw new S3Error('InvalidTag', 'Your TagKey cannot be prefixed with aws:', { TagKey: key });
    if (seen.has(key)) throw new S3Error('InvalidTag', 'Cannot provide multiple Tags with the same key', { TagKey: key });
    seen.add(key);
  }
}

// ---- x-amz-tagging: a URL query string ------------------------------------------------------

const headerRefused = (value: string): S3Error =>
  new S3Error('InvalidArgument', "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.", {
    ArgumentName: 'x-amz-tagging',
    ArgumentValue: value,
  });

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Form-urlencoded decoding ('+' is a space), strict: a bad %-escape or bytes that are not UTF-8 →
 * undefined. Node hands header values over as latin1 (one char per byte), so raw UTF-8 bytes in the
 * header are read as the bytes they are.
 */
function formDecode(s: string): string | undefined {
  const text = s.replace(/\+/g, ' ');
  if (/^[\x00-\x7f]*$/.test(text) && !text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; ) {
    if (text[i] === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else {
      const code = text.charCodeAt(i);
      if (code < 0x100) bytes.push(code);
      else bytes.push(...Buffer.from(String.fromCodePoint(text.codePointAt(i)!), 'utf8'));
      i += code >= 0xd800 && code < 0xdc00 ? 2 : 1;
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}

/**
 * The tags of an x-amz-tagging value `k1=v1&k2=v2` (form-urlencoded; `k` alone is the empty value;
 * empty pieces are skipped), checked as an object's. A bad escape, bytes that are not UTF-8, an
 * empty key or a key given twice → InvalidArgument (S3's message, with the header's value).
 */
export function parseTaggingHeader(value: string): Tag[] {
  const tags: Tag[] = [];
  const seen = new Set<string>();
  for (const piece of value.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const key = formDecode(eq < 0 ? piece : piece.slice(0, eq));
    const val = eq < 0 ? '' : formDecode(piece.slice(eq + 1));
    if (key === undefined || val === undefined || key === '' || seen.has(key)) throw headerRefused(value);
    seen.add(key);
    tags.push({ key, value: val });
  }
  validateTags(tags, 'object');
  return tags;
}

// ---- the Tagging document -------------------------------------------------------------------

/** Enough elements for a refused 51st tag to be counted (BadRequest), not cut off as MalformedXML. */
const MAX_TAGGING_ELEMENTS = 1000;

function leaf(node: XmlNode, name: string): string {
  const values = children(node, name);
  if (values.length !== 1 || typeof values[0] !== 'string') throw new S3Error('MalformedXML');
  return values[0];
}

function onlyElements(node: XmlNode, allowed: readonly string[]): void {
  for (const name of Object.keys(node)) if (!allowed.includes(name)) throw new S3Error('MalformedXML');
}

/**
 * A `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>` document as its tags, values
 * byte for byte as written, checked against `owner`'s limits. Another root, no TagSet, a Tag
 * without exactly one Key and one Value, or an unknown element → MalformedXML. An empty TagSet is
 * an empty list.
 */
export function parseTaggingXml(xml: string, owner: TagOwner): Tag[] {
  const root = parseXml(xml, 'Tagging', { maxElements: MAX_TAGGING_ELEMENTS });
  onlyElements(root, ['TagSet']);
  const sets = children(root, 'TagSet');
  if (sets.length !== 1) throw new S3Error('MalformedXML');
  const set = sets[0];
  if (set === '') return validated([], owner); // <TagSet/> or <TagSet></TagSet>
  if (typeof set !== 'object' || set === null || Array.isArray(set)) {
    if (typeof set === 'string' && /^[ \t\n]*$/.test(set)) return validated([], owner);
    throw new S3Error('MalformedXML');
  }
  onlyElements(set, ['Tag']);
  const tags = children(set, 'Tag').map((raw: XmlValue) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new S3Error('MalformedXML');
    onlyElements(raw, ['Key', 'Value']);
    return { key: leaf(raw, 'Key'), value: leaf(raw, 'Value') };
  });
  return validated(tags, owner);
}

function validated(tags: Tag[], owner: TagOwner): Tag[] {
  validateTags(tags, owner);
  return tags;
}

/** The Tagging document of a tag set (GetObjectTagging, GetBucketTagging). */
export function taggingXml(tags: readonly Tag[]): XmlBody {
  return {
    root: 'Tagging',
    content: { TagSet: tags.length === 0 ? '' : { Tag: tags.map((t) => ({ Key: t.key, Value: t.value })) } },
  };
}

// ---- writes -----------------------------------------------------------------------------------

/**
 * The tags a write asks for: the x-amz-tagging header (PUT, CopyObject, CreateMultipartUpload), or
 * the POST form's `tagging` field, a Tagging document. None, or an empty set, is no tags.
 */
export function tagsFromRequest(src: ExtrasSource): { tags?: Tag[] } {
  if (src.kind === 'form') {
    const doc = src.fields.get('tagging');
    if (doc === undefined || doc === '') return {};
    const tags = parseTaggingXml(doc, 'object');
    return tags.length > 0 ? { tags } : {};
  }
  const value = header(src.ctx, 'x-amz-tagging');
  if (value === undefined || value === '') return {};
  const tags = parseTaggingHeader(value);
  return tags.length > 0 ? { tags } : {};
}

/** CopyObject's x-amz-tagging-directive: COPY (the default: the source version's tags) or REPLACE (the request's). */
export function taggingDirective(ctx: RequestContext): 'COPY' | 'REPLACE' {
  const raw = header(ctx, 'x-amz-tagging-directive');
  if (raw === undefined) return 'COPY';
  const directive = raw.toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error('InvalidArgument', 'Unknown tagging directive.', { ArgumentName: 'x-amz-tagging-directive', ArgumentValue: raw });
  }
  return directive;
}

/** x-amz-tagging-count on GET/HEAD when the version has tags. */
export function tagCountHeaders(rec: ObjectRecord): Record<string, string> {
  return rec.tags !== undefined && rec.tags.length > 0 ? { 'x-amz-tagging-count': String(rec.tags.length) } : {};
}

// ---- bucket tags: stored as a bucket configuration document ------------------------------------

/** The bucket's tags, or undefined when it has none (NoSuchTagSet). */
export async function loadBucketTags(store: Store, bucket: string): Promise<Tag[] | undefined> {
  const doc = await store.getBucketConfig(bucket, TAGGING_CONFIG_NAME);
  if (doc === undefined) return undefined;
  const parsed = JSON.parse(doc) as Tag[];
  return parsed.map((t) => ({ key: String(t.key), value: String(t.value) }));
}

/** Stores a bucket's tags (an empty set removes them, as S3 does: GetBucketTagging then answers NoSuchTagSet). */
export async function storeBucketTags(store: Store, bucket: string, tags: readonly Tag[] | undefined): Promise<void> {
  const value = tags === undefined || tags.length === 0 ? undefined : JSON.stringify(tags.map((t) => ({ key: t.key, value: t.value })));
  await store.putBucketConfig(bucket, TAGGING_CONFIG_NAME, value);
}
