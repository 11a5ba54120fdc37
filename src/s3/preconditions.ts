// GET/HEAD conditionals (RFC 7232 order as S3 applies it), copy-source conditionals, write
// conditions (If-None-Match / If-Match on PUT, copy, completion) and byte ranges.
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectRecord, WriteCondition } from '../store/types.js';
import { header } from './context.js';
import { S3Error } from './errors.js';
import { httpDate } from './object-meta.js';

/** Normalises one entity tag for comparison: strips W/ and quotes. */
function bareEtag(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

/** Whether an If-Match / If-None-Match list (`*`, comma list, quoted or not) matches the ETag. */
export function etagMatches(list: string, etag: string): boolean {
  const want = bareEtag(etag);
  return list.split(',').some((t) => t.trim() === '*' || bareEtag(t) === want);
}

function parseDate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Last-Modified as clients see it: whole seconds. */
function modifiedSecond(rec: ObjectRecord): number {
  return Math.floor(rec.lastModified / 1000) * 1000;
}

export interface Conditionals {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * S3's order: If-Match (fail → 412), else If-Unmodified-Since (fail → 412); then If-None-Match
 * (match → 304), else If-Modified-Since (not modified → 304). A passing If-Match makes
 * If-Unmodified-Since irrelevant; a present If-None-Match makes If-Modified-Since irrelevant.
 * `notModifiedStatus` is 304 for GET/HEAD and 412 for copy sources.
 */
export function checkConditionals(rec: ObjectRecord, c: Conditionals, mode: 'read' | 'copy-source'): void {
  const failed = () => new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
  const notModified = () =>
    mode === 'read'
      ? new S3Error('NotModified', undefined, {}, { etag: rec.etag, 'last-modified': httpDate(rec.lastModified) })
      : new S3Error('PreconditionFailed', undefined, { Condition: 'x-amz-copy-source-If-None-Match' });
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, rec.etag)) throw failed();
  } else {
    const t = parseDate(c.ifUnmodifiedSince);
    if (t !== undefined && modifiedSecond(rec) > t) throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Unmodified-Since' });
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, rec.etag)) throw notModified();
  } else {
    const t = parseDate(c.ifModifiedSince);
    if (t !== undefined && modifiedSecond(rec) <= t) throw notModified();
  }
}

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a Range header against the object size. Returns undefined when the header is absent or
 * not a single syntactically valid byte range (S3 then sends the whole object with 200); throws
 * InvalidRange (416) when valid but unsatisfiable.
 */
export function parseRange(value: string | undefined, size: number): ByteRange | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(value);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () => new S3Error('InvalidRange', undefined, { RangeRequested: value, ActualObjectSize: size }, { 'content-range': `bytes */${size}` });
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // 'bytes=33-10' is not a range: ignored
  if (start >= size) throw unsatisfiable();
  const end = m[2] === '' ? size - 1 : Number(m[2]);
  return { start, end: Math.min(end, size - 1) };
}

/**
 * If-None-Match: * and If-Match on writes, checked atomically with the commit. Amazon S3 accepts
 * only `*` for If-None-Match on writes and answers any other value with 501 NotImplemented naming
 * the header; `If-Match: *` means "the object exists" (404 NoSuchKey when it does not, like an
 * ETag on a missing key).
 */
export function writeCondition(ctx: { headers: IncomingHttpHeaders }): WriteCondition | undefined {
  const ifNoneMatch = header(ctx, 'if-none-match');
  const ifMatch = header(ctx, 'if-match');
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'If-None-Match',
      additionalMessage: "We don't accept the provided value of If-None-Match header for this API",
    });
  }
  const cond: WriteCondition = {};
  if (ifNoneMatch !== undefined) cond.mustNotExist = true;
  if (ifMatch !== undefined) {
    const t = ifMatch.trim();
    if (t === '*') cond.mustExist = true;
    else cond.etagMatches = t.startsWith('"') ? t : `"${t}"`;
  }
  return cond;
}
