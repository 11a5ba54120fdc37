// Object and bucket tags: the x-amz-tagging header (a URL-encoded query string), the Tagging XML
// document, and S3's limits. See docs/s3-compatibility.md, "Tagging".
import type { ObjectRecord, Tag } from '../store/types.js';
import type { ExtrasSource } from './version-extras.js';

/** The tags a write asks for (x-amz-tagging). */
export function tagsFromRequest(_src: ExtrasSource): { tags?: Tag[] } {
  return {}; // the tagging work fills this in (issue 11)
}

/** x-amz-tagging-count on GET/HEAD when the version has tags. */
export function tagCountHeaders(rec: ObjectRecord): Record<string, string> {
  return rec.tags !== undefined && rec.tags.length > 0 ? { 'x-amz-tagging-count': String(rec.tags.length) } : {};
}
