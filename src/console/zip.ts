// GET /api/zip?bucket=B&prefix=P: every object under P (latest versions) as one zip, streamed as it
// is made. Each listing page and each object is read as the session's principal through the S3
// address itself (a presigned request over the loopback): the same pipeline, authorization,
// decryption and checks as any client's read, nothing decided here. An object S3 refuses is left
// out and named in a `_skipped.txt` entry. The archive is written by yazl (ZIP64 where sizes or
// counts need it); entries are stored, not compressed (a download of mostly media: deflate would
// cost CPU for little).
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { XMLParser } from 'fast-xml-parser';
import type { ZipFile } from 'yazl';
import type { ApiEndpoint } from './http.js';
import { presignUrl } from './presign.js';
import { ConsoleError, type ConsoleSession } from './session.js';
import { SECURITY_HEADERS } from './static.js';

/** How long an internal read's presigned URL lasts (each is used at once). */
const INTERNAL_EXPIRES_S = 900;
/** Bytes and entries past which a zip needs ZIP64 records. */
const ZIP32_MAX_BYTES = 0xffff_fffe;
const ZIP32_MAX_ENTRIES = 0xfffe;

/** Does an entry of `size` bytes need ZIP64 records (its size, or its offset so far)? */
export function needsZip64(size: number, offset: number): boolean {
  return size > ZIP32_MAX_BYTES || offset + size > ZIP32_MAX_BYTES;
}

/** The archive's end records: ZIP64 when the archive or its entry count went past ZIP32's fields. */
export function endNeedsZip64(totalBytes: number, entries: number): boolean {
  return totalBytes > ZIP32_MAX_BYTES || entries > ZIP32_MAX_ENTRIES;
}

/**
 * An entry's name inside the zip: the key less the prefix up to its last `/` (a download of folder
 * `photos/2024/` holds `a.jpg`, `trip/b.jpg`). Undefined when it cannot be a safe relative path
 * (absolute, `..`, empty, a backslash).
 */
export function entryName(key: string, prefix: string): string | undefined {
  const base = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const name = key.slice(base.length);
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return undefined;
  if (name.split('/').some((s) => s === '..' || s === '.')) return undefined;
  if (/^[A-Za-z]:/.test(name)) return undefined;
  return name;
}

/** The download's file name: the prefix's last folder, else the bucket, as `NAME.zip`. */
export function zipFileName(bucket: string, prefix: string): string {
  const parts = prefix.split('/').filter((p) => p !== '');
  return `${parts.length > 0 ? parts[parts.length - 1] : bucket}.zip`;
}

/** Content-Disposition with an ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

interface Listed {
  key: string;
  size: number;
  lastModified: Date;
}

// The XML parser and yazl are loaded by the first zip asked for, not at every server start (each
// worker loads the console; as s3/xml.ts does for the XML builder).
const requireLazily = createRequire(import.meta.url);
let parser: XMLParser | undefined;
function xml(): XMLParser {
  if (parser === undefined) {
    const { XMLParser } = requireLazily('fast-xml-parser') as typeof import('fast-xml-parser');
    parser = new XMLParser({ parseTagValue: false, trimValues: false, ignoreAttributes: true, isArray: (name) => name === 'Contents' });
  }
  return parser;
}
function newZip(): ZipFile {
  const { ZipFile } = requireLazily('yazl') as typeof import('yazl');
  return new ZipFile();
}

/** One GET over the loopback; resolves with the response (its body not read yet). */
function get(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    // The server's own S3 listener: its certificate may name another host than the loopback.
    const r = lib.get(url, { ...(url.startsWith('https:') && { rejectUnauthorized: false }), agent: false }, resolve);
    r.on('error', reject);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** The S3 error code of an error answer's XML (or its status). */
function s3CodeOf(body: string, status: number): string {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `HTTP ${status}`;
}

export function zipEndpoint(deps: { region: string; localS3Url: () => string; now?: () => number }): ApiEndpoint {
  const now = deps.now ?? Date.now;
  const sign = (session: ConsoleSession, bucket: string, key: string | undefined, query?: Record<string, string>) =>
    presignUrl({
      baseUrl: deps.localS3Url(),
      method: 'GET',
      bucket,
      ...(key !== undefined && { key }),
      ...(query && { query }),
      region: deps.region,
      keys: session.keys,
      expiresSeconds: INTERNAL_EXPIRES_S,
      now: now(),
    });

  /** One listing page as the session: its objects and the next token; ConsoleError with S3's code when refused. */
  const listPage = async (session: ConsoleSession, bucket: string, prefix: string, token: string | undefined) => {
    const res = await get(sign(session, bucket, undefined, { 'list-type': '2', prefix, ...(token !== undefined && { 'continuation-token': token }) }));
    const body = await text(res);
    if (res.statusCode !== 200) {
      const code = s3CodeOf(body, res.statusCode ?? 500);
      throw new ConsoleError(res.statusCode ?? 500, code, /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? code);
    }
    const r = (xml().parse(body) as { ListBucketResult?: Record<string, unknown> }).ListBucketResult ?? {};
    const contents = (r.Contents as Array<Record<string, string>> | undefined) ?? [];
    const objects: Listed[] = contents.map((c) => ({
      key: String(c.Key ?? ''),
      size: Number(c.Size ?? 0),
      lastModified: new Date(String(c.LastModified ?? '')),
    }));
    const next = r.IsTruncated === 'true' && typeof r.NextContinuationToken === 'string' ? r.NextContinuationToken : undefined;
    return { objects, next };
  };

  return async (_req: IncomingMessage, res: ServerResponse, session: ConsoleSession, query: URLSearchParams) => {
    const bucket = query.get('bucket') ?? '';
    const prefix = query.get('prefix') ?? '';
    if (bucket === '') throw new ConsoleError(400, 'InvalidArgument', 'Give the bucket (?bucket=NAME&prefix=FOLDER/).');
    // The first page before any byte is sent: a refused listing or a missing bucket is a JSON error.
    let page = await listPage(session, bucket, prefix, undefined);
    const zip = newZip();
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'application/zip',
      'content-disposition': disposition(zipFileName(bucket, prefix)),
      'cache-control': 'no-store',
    });
    const out = zip.outputStream as Readable;
    out.pipe(res);
    let closed = false;
    let reading: IncomingMessage | undefined;
    res.once('close', () => {
      closed = true;
      reading?.destroy();
    });
    const skipped: string[] = [];
    let offset = 0;
    let entries = 0;
    try {
      for (;;) {
        for (const o of page.objects) {
          if (closed) return;
          // A folder marker (an empty key ending in /) has nothing to download.
          if (o.key.endsWith('/') && o.size === 0) continue;
          const name = entryName(o.key, prefix);
          if (name === undefined) {
            skipped.push(`${o.key}\tits name cannot be a path inside a zip`);
            continue;
          }
          const got = await get(sign(session, bucket, o.key));
          if (got.statusCode !== 200) {
            skipped.push(`${o.key}\t${s3CodeOf(await text(got), got.statusCode ?? 500)}`);
            continue;
          }
          const size = Number(got.headers['content-length'] ?? o.size);
          reading = got;
          const done = new Promise<void>((resolve, reject) => {
            got.once('end', resolve);
            got.once('error', reject);
            got.once('close', () => (got.readableEnded ? resolve() : reject(new Error(`the read of ${o.key} broke off`))));
          });
          zip.addReadStream(got, name, { size, mtime: o.lastModified, compress: false, ...(needsZip64(size, offset) && { forceZip64Format: true }) });
          await done;
          reading = undefined;
          offset += size + 30 + Buffer.byteLength(name) + 20;
          entries++;
        }
        if (page.next === undefined) break;
        page = await listPage(session, bucket, prefix, page.next);
      }
      if (skipped.length > 0) {
        const list = `Objects under ${prefix === '' ? `bucket ${bucket}` : `${bucket}/${prefix}`} left out of this zip (key, then why):\n${skipped.join('\n')}\n`;
        zip.addBuffer(Buffer.from(list, 'utf8'), '_skipped.txt', { compress: false });
        entries++;
      }
      zip.end({ forceZip64Format: endNeedsZip64(offset, entries), comment: '' });
    } catch (err) {
      // Headers are gone: the only honest signal left is a broken download. (The client going
      // away is no server fault: nothing to log.)
      res.destroy();
      if (!closed && !(err instanceof ConsoleError)) throw err;
    }
  };
}
