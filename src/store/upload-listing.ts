// The ListMultipartUploads page algorithm (markers, delimiter roll-up into common prefixes) over
// MetaStore.listUploads; Store.listUploadPage checks the bucket and calls it.
import type { MetaStore, UploadRecord } from './types.js';

/** A ListMultipartUploads page request (S3 semantics; see listUploadPage). */
export interface UploadPageQuery {
  bucket: string;
  prefix: string;
  /** '' means no delimiter. */
  delimiter: string;
  keyMarker: string;
  /** Only used together with keyMarker. */
  uploadIdMarker: string;
  /** 0..1000: counts uploads and common prefixes together. */
  maxUploads: number;
}

export interface UploadPage {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /**
   * The last entry of the page: its key (or common prefix) and upload id (none for a common
   * prefix). When truncated, the next page starts after it (NextKeyMarker / NextUploadIdMarker).
   */
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

/**
 * One ListMultipartUploads page: uploads in (key bytes, initiation) order after the markers, keys
 * rolled up into common prefixes at the delimiter. A key marker that is (or lies in) a common
 * prefix skips that whole prefix, so a NextKeyMarker that is a common prefix never repeats it.
 * Uploads under a common prefix are passed over in batches (uploads are few; objects use the
 * seeking listing in listing.ts).
 */
export async function listUploadPage(meta: MetaStore, q: UploadPageQuery, batchSize: number): Promise<UploadPage> {
  const page: UploadPage = { uploads: [], commonPrefixes: [], isTruncated: false };
  if (q.maxUploads <= 0) return page;
  const { prefix, delimiter } = q;
  const rollUp = (key: string): string | undefined => {
    if (delimiter === '' || !key.startsWith(prefix)) return undefined;
    const i = key.indexOf(delimiter, prefix.length);
    return i < 0 ? undefined : key.slice(0, i + delimiter.length);
  };
  let keyMarker = q.keyMarker;
  let uploadIdMarker = keyMarker === '' ? '' : q.uploadIdMarker;
  // The common prefix being passed over (the marker's own, then each one emitted).
  let open = rollUp(keyMarker);
  if (open !== undefined) uploadIdMarker = '';
  let count = 0;
  for (;;) {
    const batch = await meta.listUploads({ bucket: q.bucket, prefix, keyMarker, uploadIdMarker, limit: batchSize });
    for (const u of batch) {
      if (open !== undefined && u.key.startsWith(open)) continue;
      open = undefined;
      const cp = rollUp(u.key);
      if (count === q.maxUploads) {
        page.isTruncated = true;
        return page;
      }
      count++;
      if (cp !== undefined) {
        page.commonPrefixes.push(cp);
        page.nextKeyMarker = cp;
        page.nextUploadIdMarker = undefined;
        open = cp;
      } else {
        page.uploads.push(u);
        page.nextKeyMarker = u.key;
        page.nextUploadIdMarker = u.uploadId;
      }
    }
    if (batch.length < batchSize) return page;
    const last = batch[batch.length - 1]!;
    keyMarker = last.key;
    uploadIdMarker = last.uploadId;
  }
}
