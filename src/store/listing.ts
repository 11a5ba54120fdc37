// The S3 listing algorithm (prefix, delimiter, common prefixes, pagination) on top of
// MetaStore.scanListing. A page costs O(page + number of common prefixes), never O(bucket):
// keys under a common prefix are skipped with one seek, not read.

import type { ListedObject, ListPage, ListQuery, MetaStore, ObjectRecord } from './types.js';

/** A record as a listing shows it (what scanListing returns for it). */
export function listedObject(rec: ObjectRecord): ListedObject {
  return {
    key: rec.key,
    versionId: rec.versionId,
    size: rec.size,
    etag: rec.etag,
    lastModified: rec.lastModified,
    storageClass: rec.storageClass,
    checksumAlgorithms: rec.meta.checksums ? Object.keys(rec.meta.checksums).join(',') : '',
  };
}

/**
 * The smallest string that sorts (in UTF-8 byte order) after every string starting with `s`,
 * or undefined when there is none. Because UTF-8 byte order is code point order and UTF-8 is
 * prefix-free per code point, this is `s` with its last code point replaced by the next one
 * (carrying over U+10FFFF, jumping over the surrogate range, which UTF-8 cannot encode). Unlike
 * a byte successor (last byte + 1), the result is always a valid string, so it can travel through
 * the string-typed `from` bound of scanListing, and it is correct for any delimiter, including
 * multi-byte ones: for every valid key K, K >= successor(s) iff K > every string starting with s.
 */
export function prefixSuccessor(s: string): string | undefined {
  const cps = Array.from(s);
  while (cps.length > 0) {
    let c = cps.pop()!.codePointAt(0)!;
    // A lone surrogate is encoded as U+FFFD by Buffer.from(s, 'utf8'): take its successor.
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x10ffff) {
      const next = c + 1 === 0xd800 ? 0xe000 : c + 1;
      cps.push(String.fromCodePoint(next));
      return cps.join('');
    }
  }
  return undefined;
}

/** First scan size when a delimiter is set; doubled while the rows read are all used. */
export const FIRST_BATCH = 8;

/** The common prefix `key` (which starts with `prefix`) rolls up into under `delimiter`, if any. */
export function commonPrefixOf(key: string, prefix: string, delimiter: string): string | undefined {
  if (delimiter === '') return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/**
 * One page of ListObjects(V2): up to q.maxKeys entries (objects and common prefixes together),
 * all sorting strictly after q.after. When q.after lies in (or is) a common prefix, that common
 * prefix and everything under it count as already returned. isTruncated is true iff at least one
 * more entry exists; nextAfter is then the last key or common prefix of the page.
 */
export async function listPage(meta: MetaStore, q: ListQuery): Promise<ListPage> {
  const page: ListPage = { objects: [], commonPrefixes: [], isTruncated: false };
  if (q.maxKeys <= 0) return page;
  const { prefix, delimiter } = q;

  const rollUp = (key: string): string | undefined => commonPrefixOf(key, prefix, delimiter);

  let after = q.after;
  let from: string | undefined;
  if (after.startsWith(prefix)) {
    const cp = rollUp(after);
    if (cp !== undefined) {
      from = prefixSuccessor(cp);
      if (from === undefined) return page;
    }
  }

  let count = 0;
  let last: string | undefined;
  // Without a delimiter every row is an entry: read the whole rest of the page in one query.
  // With one, rows under a common prefix are wasted, so start small and grow while rows are used:
  // the waste stays within a constant factor of (entries + common prefixes).
  let batch = delimiter === '' ? Infinity : FIRST_BATCH;
  for (;;) {
    const limit = Math.min(q.maxKeys - count + 1, batch);
    const rows = await meta.scanListing(q.bucket, prefix, after, limit, from);
    let open: string | undefined; // the common prefix whose keys are being passed over
    for (const rec of rows) {
      if (open !== undefined && rec.key.startsWith(open)) continue;
      open = undefined;
      if (count === q.maxKeys) {
        // One more entry exists (an object or a new common prefix): this page is full.
        page.isTruncated = true;
        page.nextAfter = last;
        return page;
      }
      const cp = rollUp(rec.key);
      if (cp === undefined) {
        page.objects.push(rec);
        last = rec.key;
      } else {
        page.commonPrefixes.push(cp);
        last = cp;
        open = cp;
      }
      count++;
    }
    if (rows.length < limit) return page; // the scan is exhausted
    const tail = rows[rows.length - 1]!.key;
    if (open !== undefined) {
      // The batch ended inside a common prefix: seek past all of it in one step.
      from = prefixSuccessor(open);
      if (from === undefined) return page;
      batch = FIRST_BATCH;
    } else {
      batch *= 2;
    }
    after = tail;
  }
}
