// The ListObjectVersions page algorithm (prefix, delimiter, common prefixes, key and version-id
// markers) over MetaStore.scanVersions: the version twin of listing.ts, with the same costs (a page
// is O(page + common prefixes); keys under a common prefix are skipped with one seek).

import { commonPrefixOf, FIRST_BATCH, prefixSuccessor } from './listing.js';
import type { ListedVersion, MetaStore } from './types.js';

export interface VersionListQuery {
  bucket: string;
  prefix: string;
  /** '' means no delimiter. */
  delimiter: string;
  /** '' = from the start. */
  keyMarker: string;
  /** Only used together with keyMarker: resume after this version of keyMarker ('' = after the whole key). */
  versionIdMarker: string;
  /** 0..1000: counts versions (delete markers included) and common prefixes together. */
  maxKeys: number;
}

export interface VersionPage {
  /** Versions and delete markers, in (key, newest first) order. */
  versions: ListedVersion[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** When truncated: the last entry's key or common prefix, and its version id (none for a prefix). */
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

/**
 * One page: up to q.maxKeys entries after the markers. A key marker that is (or lies in) a common
 * prefix skips that whole prefix (as listPage does), so a NextKeyMarker that is a common prefix
 * never repeats it. isTruncated is true iff at least one more entry exists.
 */
export async function listVersionPage(meta: MetaStore, q: VersionListQuery): Promise<VersionPage> {
  const page: VersionPage = { versions: [], commonPrefixes: [], isTruncated: false };
  if (q.maxKeys <= 0) return page;
  const { prefix, delimiter } = q;
  const rollUp = (key: string): string | undefined => commonPrefixOf(key, prefix, delimiter);

  let keyMarker = q.keyMarker;
  let versionIdMarker = keyMarker === '' ? '' : q.versionIdMarker;
  let from: string | undefined;
  if (keyMarker.startsWith(prefix)) {
    const cp = rollUp(keyMarker);
    if (cp !== undefined) {
      from = prefixSuccessor(cp);
      if (from === undefined) return page;
      versionIdMarker = '';
    }
  }

  let count = 0;
  let last: { key: string; versionId?: string } | undefined;
  let batch = delimiter === '' ? Infinity : FIRST_BATCH;
  for (;;) {
    const limit = Math.min(q.maxKeys - count + 1, batch);
    const rows = await meta.scanVersions(q.bucket, prefix, keyMarker, versionIdMarker, limit, from);
    let open: string | undefined; // the common prefix whose keys are being passed over
    for (const v of rows) {
      if (open !== undefined && v.key.startsWith(open)) continue;
      open = undefined;
      if (count === q.maxKeys) {
        page.isTruncated = true;
        page.nextKeyMarker = last?.key;
        page.nextVersionIdMarker = last?.versionId;
        return page;
      }
      const cp = rollUp(v.key);
      if (cp === undefined) {
        page.versions.push(v);
        last = { key: v.key, versionId: v.versionId };
      } else {
        page.commonPrefixes.push(cp);
        last = { key: cp };
        open = cp;
      }
      count++;
    }
    if (rows.length < limit) return page; // the scan is exhausted
    const tail = rows[rows.length - 1]!;
    keyMarker = tail.key;
    versionIdMarker = tail.versionId;
    if (open !== undefined) {
      // The batch ended inside a common prefix: seek past all of it in one step.
      from = prefixSuccessor(open);
      if (from === undefined) return page;
      batch = FIRST_BATCH;
    } else {
      batch *= 2;
    }
  }
}
