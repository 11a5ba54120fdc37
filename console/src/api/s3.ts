// S3 through the console: `/api/s3/<bucket>/<key>?<query>` is the S3 REST API answered by the
// server's own pipeline as the logged-in user. Answers are S3's XML, read with DOMParser; S3 errors
// become ApiError with S3's code and message.
import { ApiError, CONSOLE_HEADER, reportSessionLost } from './api';

/** Percent-encodes a key for the path, keeping '/' (S3's path-style form). */
export function keyPath(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

export function s3Url(bucket?: string, key?: string, query?: Record<string, string | undefined>): string {
  let url = '/api/s3/';
  if (bucket) url += encodeURIComponent(bucket);
  if (bucket && key !== undefined) url += `/${keyPath(key)}`;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.append(k, v);
  const qs = q.toString().replace(/=(&|$)/g, '$1'); // subresources: `?versioning`, not `?versioning=`
  return qs ? `${url}?${qs}` : url;
}

export function parseXml(text: string): Document {
  return new DOMParser().parseFromString(text, 'application/xml');
}

/** Text of the first descendant element named `name` (no namespace prefix in S3's answers). */
export function xmlText(node: ParentNode, name: string): string | undefined {
  const el = (node as Element | Document).getElementsByTagName(name)[0];
  return el?.textContent ?? undefined;
}

export function xmlAll(node: ParentNode, name: string): Element[] {
  return Array.from((node as Element | Document).getElementsByTagName(name));
}

async function s3Error(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  if (text.startsWith('<')) {
    const doc = parseXml(text);
    const code = xmlText(doc, 'Code');
    if (code) return new ApiError(code, xmlText(doc, 'Message') ?? code, res.status);
  }
  // HEAD answers carry no body: S3's status-only errors.
  const byStatus: Record<number, string> = { 403: 'AccessDenied', 404: 'NotFound', 412: 'PreconditionFailed' };
  return new ApiError(byStatus[res.status] ?? `HTTP${res.status}`, text || res.statusText || `HTTP ${res.status}`, res.status);
}

export interface S3RequestInit {
  bucket?: string;
  key?: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  body?: BodyInit;
  signal?: AbortSignal;
}

/** One S3 request; resolves with the Response when 2xx, throws ApiError with S3's code otherwise. */
export async function s3(method: string, init: S3RequestInit = {}): Promise<Response> {
  const res = await fetch(s3Url(init.bucket, init.key, init.query), {
    method,
    credentials: 'same-origin',
    headers: { ...CONSOLE_HEADER, ...init.headers },
    body: init.body,
    signal: init.signal,
  });
  if (!res.ok) {
    if (res.status === 401) reportSessionLost();
    throw await s3Error(res);
  }
  return res;
}

/** An S3 request whose answer is XML. */
export async function s3Xml(method: string, init: S3RequestInit = {}): Promise<Document> {
  const res = await s3(method, init);
  return parseXml(await res.text());
}

export interface BucketEntry {
  name: string;
  created: string;
}

export async function listBuckets(): Promise<BucketEntry[]> {
  const doc = await s3Xml('GET');
  return xmlAll(doc, 'Bucket').map((b) => ({ name: xmlText(b, 'Name') ?? '', created: xmlText(b, 'CreationDate') ?? '' }));
}

export interface ObjectEntry {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
  storageClass?: string;
}

export interface ListPage {
  folders: string[];
  objects: ObjectEntry[];
  nextToken?: string;
  truncated: boolean;
}

/** One ListObjectsV2 page. */
export async function listObjects(
  bucket: string,
  opts: { prefix?: string; delimiter?: string; token?: string; maxKeys?: number; startAfter?: string } = {},
): Promise<ListPage> {
  const doc = await s3Xml('GET', {
    bucket,
    query: {
      'list-type': '2',
      prefix: opts.prefix || undefined,
      delimiter: opts.delimiter,
      'continuation-token': opts.token,
      'max-keys': String(opts.maxKeys ?? 200),
      'start-after': opts.startAfter,
    },
  });
  return {
    folders: xmlAll(doc, 'CommonPrefixes').map((p) => xmlText(p, 'Prefix') ?? ''),
    objects: xmlAll(doc, 'Contents').map((c) => ({
      key: xmlText(c, 'Key') ?? '',
      size: Number(xmlText(c, 'Size') ?? 0),
      lastModified: xmlText(c, 'LastModified') ?? '',
      etag: xmlText(c, 'ETag') ?? '',
      storageClass: xmlText(c, 'StorageClass'),
    })),
    nextToken: xmlText(doc, 'NextContinuationToken'),
    truncated: xmlText(doc, 'IsTruncated') === 'true',
  };
}
