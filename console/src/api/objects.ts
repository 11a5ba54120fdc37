// Object operations of the browser beyond listing (s3.ts): delete one and many (DeleteObjects, 1000
// keys a request), a whole folder (listed page by page, never all at once), the versions of one key
// (ListObjectVersions), restore = CopyObject of an old version over the current one, share links
// (/api/presign) and downloads (plain links the browser saves as they stream).
import { ApiError, apiJson } from './api';
import { listObjects, s3, s3Url, s3Xml, xmlAll, xmlText } from './s3';

export interface ObjectRef {
  key: string;
  versionId?: string;
}

export interface DeleteFailure extends ObjectRef {
  code: string;
  message: string;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** DeleteObjects in batches of 1000; resolves with the keys S3 refused (with their codes). */
export async function deleteMany(bucket: string, refs: ObjectRef[]): Promise<DeleteFailure[]> {
  const failures: DeleteFailure[] = [];
  for (let i = 0; i < refs.length; i += 1000) {
    const batch = refs.slice(i, i + 1000);
    const body =
      '<Delete><Quiet>true</Quiet>' +
      batch.map((r) => `<Object><Key>${xmlEscape(r.key)}</Key>${r.versionId ? `<VersionId>${xmlEscape(r.versionId)}</VersionId>` : ''}</Object>`).join('') +
      '</Delete>';
    const doc = await s3Xml('POST', { bucket, query: { delete: '' }, headers: { 'content-type': 'application/xml' }, body });
    for (const e of xmlAll(doc, 'Error')) {
      failures.push({
        key: xmlText(e, 'Key') ?? '',
        versionId: xmlText(e, 'VersionId'),
        code: xmlText(e, 'Code') ?? 'InternalError',
        message: xmlText(e, 'Message') ?? '',
      });
    }
  }
  return failures;
}

/**
 * Deletes every object under `prefix` (a folder): lists 1000 keys, deletes them, lists again from
 * where it stopped. Reports progress as it goes; stops at the first page S3 refuses outright.
 */
export async function deletePrefix(bucket: string, prefix: string, onProgress?: (deleted: number) => void): Promise<DeleteFailure[]> {
  const failures: DeleteFailure[] = [];
  let deleted = 0;
  let startAfter: string | undefined;
  // Bounded: each round deletes or records at least one key and moves past it.
  for (;;) {
    const page = await listObjects(bucket, { prefix, maxKeys: 1000, startAfter });
    if (page.objects.length === 0) break;
    const fails = await deleteMany(
      bucket,
      page.objects.map((o) => ({ key: o.key })),
    );
    failures.push(...fails);
    deleted += page.objects.length - fails.length;
    onProgress?.(deleted);
    startAfter = page.objects[page.objects.length - 1]!.key;
    if (!page.truncated) break;
  }
  return failures;
}

export async function deleteOne(bucket: string, key: string, versionId?: string): Promise<void> {
  await s3('DELETE', { bucket, key, query: { versionId } });
}

export interface VersionEntry {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  lastModified: string;
  size: number;
  etag: string;
}

/** Every version of exactly `key` (ListObjectVersions with the key as prefix, other keys dropped). */
export async function listVersions(bucket: string, key: string): Promise<VersionEntry[]> {
  const out: VersionEntry[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (let page = 0; page < 50; page++) {
    const doc = await s3Xml('GET', {
      bucket,
      query: { versions: '', prefix: key, 'max-keys': '1000', 'key-marker': keyMarker, 'version-id-marker': versionMarker },
    });
    const root = doc.documentElement;
    let sawOther = false;
    for (const el of Array.from(root.children)) {
      if (el.tagName !== 'Version' && el.tagName !== 'DeleteMarker') continue;
      const k = xmlText(el, 'Key') ?? '';
      if (k !== key) {
        sawOther = true;
        continue;
      }
      out.push({
        key: k,
        versionId: xmlText(el, 'VersionId') ?? 'null',
        isLatest: xmlText(el, 'IsLatest') === 'true',
        deleteMarker: el.tagName === 'DeleteMarker',
        lastModified: xmlText(el, 'LastModified') ?? '',
        size: Number(xmlText(el, 'Size') ?? 0),
        etag: xmlText(el, 'ETag') ?? '',
      });
    }
    // Versions come sorted by key: once a longer key shows up, this key's versions are all seen.
    if (sawOther || xmlText(root, 'IsTruncated') !== 'true') break;
    keyMarker = xmlText(root, 'NextKeyMarker');
    versionMarker = xmlText(root, 'NextVersionIdMarker');
  }
  return out;
}

/** Copies `versionId` of `key` over the current version (S3's way to restore an old version). */
export async function restoreVersion(bucket: string, key: string, versionId: string): Promise<void> {
  const source = `${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}?versionId=${encodeURIComponent(versionId)}`;
  const doc = await s3Xml('PUT', { bucket, key, headers: { 'x-amz-copy-source': source } });
  // CopyObject may answer 200 with an error document.
  const code = doc.documentElement.tagName === 'Error' ? xmlText(doc, 'Code') : undefined;
  if (code) throw new ApiError(code, xmlText(doc, 'Message') ?? code, 200);
}

export interface PresignResult {
  url: string;
  expiresAt: string;
}

export function presign(bucket: string, key: string, expiresSeconds: number, versionId?: string): Promise<PresignResult> {
  return apiJson<PresignResult>('POST', '/api/presign', { bucket, key, method: 'GET', expiresSeconds, ...(versionId ? { versionId } : {}) });
}

const baseName = (key: string) => key.replace(/\/+$/, '').split('/').pop() || 'download';

/**
 * Opens `url` as a download: the browser saves the answer as it streams (nothing is held in the
 * page, so a download of many GiB works). GETs of /api/s3 and /api/zip need no console header; a
 * refusal comes back as the saved file's error, so the caller checks access first (HEAD).
 */
function openDownload(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

/** `attachment; filename*=UTF-8''…` (RFC 6266/8187): the name the browser saves under. */
function attachment(name: string): string {
  return `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Downloads one object (or one version of it): HEAD first (a refusal is shown), then a streamed link. */
export async function downloadObject(bucket: string, key: string, versionId?: string): Promise<void> {
  await s3('HEAD', { bucket, key, query: { versionId } });
  openDownload(s3Url(bucket, key, { versionId, 'response-content-disposition': attachment(baseName(key)) }));
}

/** The URL of a folder's zip stream. */
export function zipUrl(bucket: string, prefix: string): string {
  return `/api/zip?${new URLSearchParams({ bucket, prefix })}`;
}

/**
 * Downloads a folder (every object under `prefix`) as a zip the server streams. A listing of one key
 * first: the user's ListBucket refusal is shown in the page instead of saved as the file.
 */
export async function downloadFolder(bucket: string, prefix: string): Promise<void> {
  await s3('GET', { bucket, query: { 'list-type': '2', prefix: prefix || undefined, 'max-keys': '1' } });
  openDownload(zipUrl(bucket, prefix));
}

/** HEAD of an object: its type and size decide how it is previewed. */
export async function headObject(bucket: string, key: string, versionId?: string): Promise<{ type: string; size: number; lastModified: string }> {
  const res = await s3('HEAD', { bucket, key, query: { versionId } });
  return {
    type: res.headers.get('content-type') ?? '',
    size: Number(res.headers.get('content-length') ?? 0),
    lastModified: res.headers.get('last-modified') ?? '',
  };
}

/** GET of an object (the first `maxBytes` of it when given, by a Range request) as a blob. */
export async function fetchObject(bucket: string, key: string, opts: { maxBytes?: number; versionId?: string; signal?: AbortSignal } = {}): Promise<Blob> {
  const headers: Record<string, string> = opts.maxBytes ? { range: `bytes=0-${opts.maxBytes - 1}` } : {};
  const res = await s3('GET', { bucket, key, query: { versionId: opts.versionId }, headers, signal: opts.signal });
  return res.blob();
}

export { s3Url };
