// CORS: the bucket configuration (XML ↔ rules ↔ stored JSON), rule matching, and the response
// headers for preflight (OPTIONS) and actual requests. Pure functions plus one lookup helper;
// the pipeline calls `corsHeadersFor()` once per request that carries an `Origin` header.
// Behaviour follows Amazon S3: https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html
import { StoreError } from '../store/errors.js';
import { S3Error } from './errors.js';
import type { XmlBody, XmlNode, XmlValue } from './xml.js';
import { children, parseXml, token } from './xml.js';

/** The name under which the bucket's CORS configuration is stored (MetaStore bucket config). */
export const CORS_CONFIG_NAME = 'cors';

/** The only methods a CORS rule may allow. */
export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;

const MAX_RULES = 100;
const MAX_ID_LENGTH = 255;

export interface CorsRule {
  id?: string;
  allowedMethods: string[];
  /** Exact origins or patterns with one `*`. */
  allowedOrigins: string[];
  /** Header name patterns (one `*` each), matched case-insensitively. */
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

// ---- configuration: XML in, XML out, JSON at rest ----------------------------------------

/** RFC 9110 token: what may appear as a header name or method in a response header value. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Printable ASCII without spaces: a safe header value for origins and header patterns. */
const VISIBLE = /^[\x21-\x7e]+$/;
const RULE_ELEMENTS = new Set(['ID', 'AllowedMethod', 'AllowedOrigin', 'AllowedHeader', 'ExposeHeader', 'MaxAgeSeconds']);

/** The text of leaf elements named `name`; a nested element where text belongs is MalformedXML. */
function leafTexts(node: XmlNode, name: string): string[] {
  return children(node, name).map((v: XmlValue) => {
    if (typeof v !== 'string') throw new S3Error('MalformedXML');
    return v;
  });
}

function atMostOne(node: XmlNode, name: string): string | undefined {
  const values = leafTexts(node, name);
  if (values.length > 1) throw new S3Error('MalformedXML');
  return values[0];
}

function oneWildcardAtMost(kind: string, value: string): void {
  if (value.indexOf('*') !== value.lastIndexOf('*')) {
    throw new S3Error('InvalidRequest', `${kind} "${value}" can not have more than one wildcard.`);
  }
}

/**
 * Parses and validates a PutBucketCors body. Structural problems (wrong root, no rules, a rule
 * without origin or method, unknown elements, a bad MaxAgeSeconds) are MalformedXML; values S3
 * refuses (unsupported methods, several wildcards, more than 100 rules) are InvalidRequest.
 */
export function parseCorsXml(xml: string): CorsRule[] {
  const root = parseXml(xml, 'CORSConfiguration');
  for (const name of Object.keys(root)) if (name !== 'CORSRule') throw new S3Error('MalformedXML');
  const ruleNodes = children(root, 'CORSRule');
  if (ruleNodes.length === 0) throw new S3Error('MalformedXML');
  if (ruleNodes.length > MAX_RULES) {
    throw new S3Error('InvalidRequest', `The number of CORS rules should not exceed allowed limit of ${MAX_RULES} rules.`);
  }
  return ruleNodes.map((raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new S3Error('MalformedXML');
    const node = raw as XmlNode;
    for (const name of Object.keys(node)) if (!RULE_ELEMENTS.has(name)) throw new S3Error('MalformedXML');

    const allowedMethods = leafTexts(node, 'AllowedMethod');
    const allowedOrigins = leafTexts(node, 'AllowedOrigin');
    if (allowedMethods.length === 0 || allowedOrigins.length === 0) {
      throw new S3Error('MalformedXML', 'Each CORSRule must identify at least one origin and one method.');
    }
    for (const m of allowedMethods) {
      if (!(CORS_METHODS as readonly string[]).includes(m)) {
        throw new S3Error('InvalidRequest', `Found unsupported HTTP method in CORS config. Unsupported method is ${m}`);
      }
    }
    for (const o of allowedOrigins) {
      if (o === '') throw new S3Error('MalformedXML');
      if (!VISIBLE.test(o)) throw new S3Error('InvalidRequest', `AllowedOrigin "${o}" is not a valid origin.`);
      oneWildcardAtMost('AllowedOrigin', o);
    }
    const allowedHeaders = leafTexts(node, 'AllowedHeader');
    for (const h of allowedHeaders) {
      if (h === '') throw new S3Error('MalformedXML');
      if (!VISIBLE.test(h)) throw new S3Error('InvalidRequest', `AllowedHeader "${h}" is not a valid header name.`);
      oneWildcardAtMost('AllowedHeader', h);
    }
    const exposeHeaders = leafTexts(node, 'ExposeHeader');
    for (const h of exposeHeaders) {
      if (h === '') throw new S3Error('MalformedXML');
      // These go into a response header verbatim: only header-name tokens are safe there.
      if (!TOKEN.test(h)) throw new S3Error('InvalidRequest', `ExposeHeader "${h}" contains invalid character.`);
    }
    const id = atMostOne(node, 'ID');
    if (id !== undefined && id.length > MAX_ID_LENGTH) {
      throw new S3Error('InvalidRequest', `The ID of a CORSRule can not be longer than ${MAX_ID_LENGTH} characters.`);
    }
    const maxAgeText = token(atMostOne(node, 'MaxAgeSeconds')); // a number: XML Schema ignores its surrounding whitespace
    let maxAgeSeconds: number | undefined;
    if (maxAgeText !== undefined && maxAgeText !== '') {
      if (!/^\d{1,10}$/.test(maxAgeText) || Number(maxAgeText) > 2 ** 31 - 1) {
        throw new S3Error('MalformedXML', `MaxAgeSeconds "${maxAgeText}" is not a valid value.`);
      }
      maxAgeSeconds = Number(maxAgeText);
    }
    const rule: CorsRule = { allowedMethods, allowedOrigins, allowedHeaders, exposeHeaders };
    if (id !== undefined && id !== '') rule.id = id;
    if (maxAgeSeconds !== undefined) rule.maxAgeSeconds = maxAgeSeconds;
    return rule;
  });
}

/** The GetBucketCors response body. */
export function corsToXml(rules: readonly CorsRule[]): XmlBody {
  return {
    root: 'CORSConfiguration',
    content: {
      CORSRule: rules.map((r) => ({
        ID: r.id,
        AllowedHeader: r.allowedHeaders,
        AllowedMethod: r.allowedMethods,
        AllowedOrigin: r.allowedOrigins,
        ExposeHeader: r.exposeHeaders,
        MaxAgeSeconds: r.maxAgeSeconds,
      })),
    },
  };
}

/** Stored form (JSON text, versioned so the shape can change later). */
export function serializeCors(rules: readonly CorsRule[]): string {
  return JSON.stringify({ v: 1, rules });
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Reads the stored form back; anything unreadable is an internal error, never a silent "no CORS". */
export function deserializeCors(json: string): CorsRule[] {
  const doc = JSON.parse(json) as { v?: unknown; rules?: unknown };
  if (doc.v !== 1 || !Array.isArray(doc.rules)) throw new Error('unreadable stored CORS configuration');
  return doc.rules.map((r: Record<string, unknown>) => {
    if (!isStringArray(r.allowedMethods) || !isStringArray(r.allowedOrigins)) throw new Error('unreadable stored CORS rule');
    const rule: CorsRule = {
      allowedMethods: r.allowedMethods,
      allowedOrigins: r.allowedOrigins,
      allowedHeaders: isStringArray(r.allowedHeaders) ? r.allowedHeaders : [],
      exposeHeaders: isStringArray(r.exposeHeaders) ? r.exposeHeaders : [],
    };
    if (typeof r.id === 'string') rule.id = r.id;
    if (typeof r.maxAgeSeconds === 'number') rule.maxAgeSeconds = r.maxAgeSeconds;
    return rule;
  });
}

// ---- matching ----------------------------------------------------------------------------

/** `pattern` with at most one `*` (matching any run of characters, also empty) against `value`. */
export function matchesPattern(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** Access-Control-Request-Headers → lowercased names, empty entries dropped. */
export function parseRequestHeaders(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
}

/**
 * The first rule allowing `origin` (case-sensitive, one wildcard) and `method` (exact), and — for
 * a preflight — every requested header (case-insensitive against AllowedHeader patterns).
 * Actual requests pass no `requestHeaders`: S3 checks headers only in the preflight.
 */
export function findCorsRule(rules: readonly CorsRule[], origin: string, method: string, requestHeaders?: readonly string[]): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedMethods.includes(method) &&
      rule.allowedOrigins.some((o) => matchesPattern(o, origin)) &&
      (requestHeaders === undefined || requestHeaders.every((h) => rule.allowedHeaders.some((p) => matchesPattern(p.toLowerCase(), h.toLowerCase())))),
  );
}

// ---- response headers --------------------------------------------------------------------

export type HeaderMap = Record<string, string>;

/** Caches must key CORS answers on the origin and on what a preflight asked for. */
export const CORS_VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method';

/**
 * Headers for a request allowed by `rule`. Like S3: a rule allowing any origin (`*`) answers `*`;
 * otherwise the request's origin is echoed and credentials are allowed. `requestHeaders` is given
 * for preflights only (echoed in Access-Control-Allow-Headers).
 */
export function corsResponseHeaders(rule: CorsRule, origin: string, requestHeaders?: readonly string[]): HeaderMap {
  const h: HeaderMap = {};
  if (rule.allowedOrigins.includes('*')) {
    h['access-control-allow-origin'] = '*';
  } else {
    h['access-control-allow-origin'] = origin;
    h['access-control-allow-credentials'] = 'true';
  }
  h['access-control-allow-methods'] = rule.allowedMethods.join(', ');
  if (requestHeaders !== undefined && requestHeaders.length > 0) h['access-control-allow-headers'] = requestHeaders.join(', ');
  if (rule.exposeHeaders.length > 0) h['access-control-expose-headers'] = rule.exposeHeaders.join(', ');
  if (rule.maxAgeSeconds !== undefined) h['access-control-max-age'] = String(rule.maxAgeSeconds);
  h['vary'] = CORS_VARY;
  return h;
}

/** Response headers a browser needs to read from S3 answers (multipart uploaders need ETag). */
export const DEFAULT_EXPOSE_HEADERS = [
  'ETag',
  'x-amz-version-id',
  'x-amz-request-id',
  'x-amz-id-2',
  'x-amz-checksum-crc32',
  'x-amz-checksum-crc32c',
  'x-amz-checksum-crc64nvme',
  'x-amz-checksum-sha1',
  'x-amz-checksum-sha256',
  'x-amz-checksum-type',
  'Content-Range',
  'Content-Length',
  'Content-Type',
  'Last-Modified',
];

/** The server-wide rule (`--cors-origins`) for buckets without their own configuration, or none. */
export function defaultCorsRules(origins: readonly string[]): CorsRule[] | undefined {
  if (origins.length === 0) return undefined;
  return [
    {
      id: 'server-default',
      allowedMethods: [...CORS_METHODS],
      allowedOrigins: [...origins],
      allowedHeaders: ['*'],
      exposeHeaders: [...DEFAULT_EXPOSE_HEADERS],
    },
  ];
}

// ---- lookup ------------------------------------------------------------------------------

/**
 * The bucket's own CORS rules (one indexed metadata lookup), or undefined when it has none.
 * Throws StoreError('NoSuchBucket') for a missing bucket.
 */
/** Where bucket configuration documents are read from: the Store façade (or a test double). */
export interface BucketConfigSource {
  getBucketConfig(bucket: string, name: string): Promise<string | undefined> | string | undefined;
}

export async function loadBucketCors(meta: BucketConfigSource, bucket: string): Promise<CorsRule[] | undefined> {
  const json = await meta.getBucketConfig(bucket, CORS_CONFIG_NAME);
  return json === undefined ? undefined : deserializeCors(json);
}

/**
 * The rules that govern a request: the bucket's own configuration if it has one, else the
 * server-wide default (also for requests without a bucket and for missing buckets, so a browser
 * can read the NoSuchBucket error). Undefined = CORS does not apply.
 */
export async function effectiveCorsRules(
  meta: BucketConfigSource,
  bucket: string | undefined,
  serverDefault: CorsRule[] | undefined,
): Promise<CorsRule[] | undefined> {
  if (bucket === undefined || bucket === '') return serverDefault;
  try {
    return (await loadBucketCors(meta, bucket)) ?? serverDefault;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'NoSuchBucket') return serverDefault;
    throw err;
  }
}

/**
 * CORS headers for an actual (non-preflight) request with an `Origin` header: the first rule that
 * allows the origin and the request's method, or only `Vary` when rules exist but none matches
 * (the answer still depends on the origin), or nothing when CORS does not apply.
 */
export function actualRequestHeaders(rules: readonly CorsRule[] | undefined, origin: string, method: string): HeaderMap {
  if (rules === undefined) return {};
  const rule = findCorsRule(rules, origin, method);
  return rule ? corsResponseHeaders(rule, origin) : { vary: CORS_VARY };
}
