// Lifecycle configuration: PutBucketLifecycleConfiguration's XML ↔ validated rules ↔ the stored
// JSON document (bucket config 'lifecycle'). The evaluator that applies the rules is lifecycle-eval.ts.
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
import { randomBytes } from 'node:crypto';
import { StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import type { Tag } from '../store/types.js';
import { S3Error } from './errors.js';
import { currentExpiry, expirationHeaderValue } from './lifecycle-eval.js';
import type { XmlBody, XmlNode, XmlValue } from './xml.js';
import { children, parseXml, token } from './xml.js';

/** The name under which a bucket's lifecycle configuration is stored (MetaStore bucket config). */
export const LIFECYCLE_CONFIG_NAME = 'lifecycle';

export const MAX_LIFECYCLE_RULES = 1000;
const MAX_ID_LENGTH = 255;
/** AWS: NewerNoncurrentVersions is at most 100. */
const MAX_NEWER_NONCURRENT = 100;

/** Which objects a rule applies to: all conditions must hold (an empty filter matches every object). */
export interface LifecycleFilter {
  prefix: string;
  tags: Tag[];
  /** Only objects strictly larger than this many bytes. */
  sizeGreaterThan?: number;
  /** Only objects strictly smaller than this many bytes. */
  sizeLessThan?: number;
  /**
   * How the filter was written, so GET answers it as given: 'legacy' (a rule-level <Prefix>),
   * 'filter' (<Filter> with at most one condition), 'and' (<Filter><And>…</And></Filter>).
   */
  form: 'legacy' | 'filter' | 'and';
}

export interface LifecycleRule {
  id: string;
  enabled: boolean;
  filter: LifecycleFilter;
  /** Current versions: expire `days` after creation (rounded up to a day boundary) or at `date` (ms, midnight UTC). */
  expiration?: { days?: number; date?: number; expiredObjectDeleteMarker?: boolean };
  /** Noncurrent versions: remove `noncurrentDays` after they became noncurrent, keeping the `newerNoncurrentVersions` newest. */
  noncurrentExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  /** Abort multipart uploads this many days after initiation. */
  abortIncompleteDays?: number;
}

// ---- XML in ----------------------------------------------------------------------------------

const RULE_ELEMENTS = new Set(['ID', 'Status', 'Filter', 'Prefix', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload']);
/** Actions S3 has and Strata refuses (one storage class): answered NotImplemented, see docs/s3-compatibility.md. */
const UNSUPPORTED_ACTIONS = new Set(['Transition', 'NoncurrentVersionTransition']);

const malformed = (): S3Error => new S3Error('MalformedXML');

function asNode(v: XmlValue): XmlNode {
  if (v === '') return {}; // <Filter/>, <And></And>
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed();
  return v;
}

/** The text of an element that occurs at most once; a nested element where text belongs is MalformedXML. */
function leaf(node: XmlNode, name: string): string | undefined {
  const values = children(node, name);
  if (values.length > 1) throw malformed();
  const v = values[0];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformed();
  return v;
}

function onlyElements(node: XmlNode, allowed: readonly string[]): void {
  for (const name of Object.keys(node)) if (!allowed.includes(name)) throw malformed();
}

/** An xs:int / xs:long: digits with an optional sign (whitespace collapsed), else MalformedXML. */
function integer(node: XmlNode, name: string): number | undefined {
  const t = token(leaf(node, name));
  if (t === undefined) return undefined;
  if (!/^[+-]?\d{1,18}$/.test(t)) throw malformed();
  return Number(t);
}

function positive(n: number | undefined, message: string): number | undefined {
  if (n !== undefined && n <= 0) throw new S3Error('InvalidArgument', message);
  return n;
}

function parseTag(v: XmlValue): Tag {
  const node = asNode(v);
  onlyElements(node, ['Key', 'Value']);
  const key = leaf(node, 'Key');
  const value = leaf(node, 'Value') ?? '';
  if (key === undefined) throw malformed();
  return { key, value };
}

/** The conditions of a <Filter> or <And>, each at most once (tags: any number inside <And>). */
function parseConditions(node: XmlNode, form: 'filter' | 'and'): LifecycleFilter {
  const filter: LifecycleFilter = { prefix: leaf(node, 'Prefix') ?? '', tags: children(node, 'Tag').map(parseTag), form };
  const gt = integer(node, 'ObjectSizeGreaterThan');
  const lt = integer(node, 'ObjectSizeLessThan');
  if ((gt !== undefined && gt < 0) || (lt !== undefined && lt < 0)) throw new S3Error('InvalidArgument', 'Object size filters must be non-negative.');
  if (gt !== undefined) filter.sizeGreaterThan = gt;
  if (lt !== undefined) filter.sizeLessThan = lt;
  if (gt !== undefined && lt !== undefined && gt >= lt) {
    throw new S3Error('InvalidArgument', 'ObjectSizeGreaterThan must be less than ObjectSizeLessThan');
  }
  const keys = new Set<string>();
  for (const t of filter.tags) {
    if (keys.has(t.key)) throw new S3Error('InvalidRequest', 'Duplicate Tag Keys are not allowed.');
    keys.add(t.key);
  }
  return filter;
}

function parseFilter(v: XmlValue): LifecycleFilter {
  const node = asNode(v);
  onlyElements(node, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan', 'And']);
  const names = Object.keys(node);
  // The schema's choice: one condition, or several combined in <And>; an empty filter matches all.
  if (names.length > 1 || children(node, names[0] ?? '').length > 1) throw malformed();
  if (names[0] === 'And') {
    const and = asNode(children(node, 'And')[0]!);
    onlyElements(and, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
    if (Object.keys(and).length === 0) throw malformed();
    return parseConditions(and, 'and');
  }
  return parseConditions(node, 'filter');
}

/** xs:dateTime at midnight UTC (AWS: "'Date' must be at midnight GMT"). */
function parseDate(text: string): number {
  const t = token(text)!;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?)?$/.exec(t);
  const ms = m ? Date.parse(m[4] === undefined ? `${t}T00:00:00Z` : m[8] === undefined ? `${t}Z` : t) : Number.NaN;
  if (!Number.isFinite(ms)) throw malformed();
  if (ms % 86_400_000 !== 0) throw new S3Error('InvalidArgument', "'Date' must be at midnight GMT");
  return ms;
}

function parseExpiration(v: XmlValue): NonNullable<LifecycleRule['expiration']> {
  const node = asNode(v);
  onlyElements(node, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
  const days = positive(integer(node, 'Days'), "'Days' for Expiration action must be a positive integer");
  const dateText = leaf(node, 'Date');
  const markerText = token(leaf(node, 'ExpiredObjectDeleteMarker'));
  if (markerText !== undefined && markerText !== 'true' && markerText !== 'false') throw malformed();
  const given = [days, dateText, markerText].filter((x) => x !== undefined).length;
  if (given === 0) throw malformed();
  if (given > 1) {
    if (markerText !== undefined) {
      throw new S3Error('InvalidArgument', 'ExpiredObjectDeleteMarker cannot be specified with Days or Date in a Lifecycle Expiration Policy.');
    }
    throw malformed();
  }
  if (days !== undefined) return { days };
  if (dateText !== undefined) return { date: parseDate(dateText) };
  return { expiredObjectDeleteMarker: markerText === 'true' };
}

function parseRule(v: XmlValue): LifecycleRule {
  const node = asNode(v);
  for (const name of Object.keys(node)) {
    if (UNSUPPORTED_ACTIONS.has(name)) {
      throw new S3Error('NotImplemented', `Strata keeps every object in one storage class: the lifecycle action ${name} is not supported.`);
    }
    if (!RULE_ELEMENTS.has(name)) throw malformed();
  }
  const id = leaf(node, 'ID');
  if (id !== undefined && id.length > MAX_ID_LENGTH) throw new S3Error('InvalidArgument', `ID length should not exceed allowed limit of ${MAX_ID_LENGTH}`);
  const status = leaf(node, 'Status');
  if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
  // A rule names its objects with a <Filter> or (the older form) a rule-level <Prefix>: exactly one.
  const filters = children(node, 'Filter');
  const legacy = leaf(node, 'Prefix');
  if (filters.length > 1 || (filters.length === 1) === (legacy !== undefined)) throw malformed();
  const filter = filters.length === 1 ? parseFilter(filters[0]!) : { prefix: legacy!, tags: [], form: 'legacy' as const };

  const rule: LifecycleRule = { id: id === undefined || id === '' ? generatedId() : id, enabled: status === 'Enabled', filter };
  const exp = children(node, 'Expiration');
  const nve = children(node, 'NoncurrentVersionExpiration');
  const abort = children(node, 'AbortIncompleteMultipartUpload');
  if (exp.length > 1 || nve.length > 1 || abort.length > 1) throw malformed();
  if (exp.length + nve.length + abort.length === 0) throw new S3Error('InvalidRequest', 'At least one action needs to be specified in a rule');
  if (exp[0] !== undefined) {
    rule.expiration = parseExpiration(exp[0]);
    if (rule.expiration.expiredObjectDeleteMarker !== undefined && filter.tags.length > 0) {
      throw new S3Error('InvalidRequest', 'ExpiredObjectDeleteMarker cannot be specified with Tags.');
    }
  }
  if (nve[0] !== undefined) {
    const n = asNode(nve[0]);
    onlyElements(n, ['NoncurrentDays', 'NewerNoncurrentVersions']);
    const noncurrentDays = positive(integer(n, 'NoncurrentDays'), "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer");
    if (noncurrentDays === undefined) throw malformed();
    const newer = positive(
      integer(n, 'NewerNoncurrentVersions'),
      "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer",
    );
    if (newer !== undefined && newer > MAX_NEWER_NONCURRENT) {
      throw new S3Error('InvalidArgument', `'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be at most ${MAX_NEWER_NONCURRENT}`);
    }
    rule.noncurrentExpiration = newer === undefined ? { noncurrentDays } : { noncurrentDays, newerNoncurrentVersions: newer };
  }
  if (abort[0] !== undefined) {
    const n = asNode(abort[0]);
    onlyElements(n, ['DaysAfterInitiation']);
    const days = positive(integer(n, 'DaysAfterInitiation'), "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer");
    if (days === undefined) throw malformed();
    // An upload has neither tags nor a size yet: S3 refuses such filters with this action.
    if (filter.tags.length > 0) throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
    if (filter.sizeGreaterThan !== undefined || filter.sizeLessThan !== undefined) {
      throw new S3Error('InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with an object size filter.');
    }
    rule.abortIncompleteDays = days;
  }
  return rule;
}

/** An ID for a rule given without one (S3 generates one too): 48 random characters. */
function generatedId(): string {
  return randomBytes(36).toString('base64').replace(/[+/]/g, 'x');
}

/**
 * Parses and validates a PutBucketLifecycleConfiguration body (root LifecycleConfiguration, 1 to
 * 1000 rules). Structure errors are MalformedXML; values S3 refuses are InvalidArgument /
 * InvalidRequest with S3's messages; Transition actions are NotImplemented.
 */
export function parseLifecycleXml(xml: string): LifecycleRule[] {
  const root = parseXml(xml, 'LifecycleConfiguration');
  onlyElements(root, ['Rule']);
  const ruleNodes = children(root, 'Rule');
  if (ruleNodes.length === 0) throw malformed();
  if (ruleNodes.length > MAX_LIFECYCLE_RULES) {
    throw new S3Error('InvalidRequest', `The number of lifecycle rules should not exceed allowed limit of ${MAX_LIFECYCLE_RULES} rules`);
  }
  const rules = ruleNodes.map(parseRule);
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw new S3Error('InvalidArgument', 'Rule ID must be unique. Found same ID for more than one rule');
    ids.add(r.id);
  }
  return rules;
}

// ---- XML out ---------------------------------------------------------------------------------

function conditionsXml(f: LifecycleFilter): XmlNode {
  const tags = f.tags.map((t) => ({ Key: t.key, Value: t.value }));
  return {
    Prefix:
      f.form === 'and' || f.prefix !== '' || (f.tags.length === 0 && f.sizeGreaterThan === undefined && f.sizeLessThan === undefined) ? f.prefix : undefined,
    Tag: f.form === 'and' ? tags : tags[0],
    ObjectSizeGreaterThan: f.sizeGreaterThan,
    ObjectSizeLessThan: f.sizeLessThan,
  };
}

/** The GetBucketLifecycleConfiguration body: the rules as they were given (filter form included). */
export function lifecycleToXml(rules: readonly LifecycleRule[]): XmlBody {
  return {
    root: 'LifecycleConfiguration',
    content: {
      Rule: rules.map((r) => ({
        ID: r.id,
        Prefix: r.filter.form === 'legacy' ? r.filter.prefix : undefined,
        Filter: r.filter.form === 'legacy' ? undefined : r.filter.form === 'and' ? { And: conditionsXml(r.filter) } : conditionsXml(r.filter),
        Status: r.enabled ? 'Enabled' : 'Disabled',
        Expiration: r.expiration && {
          Days: r.expiration.days,
          Date: r.expiration.date === undefined ? undefined : new Date(r.expiration.date).toISOString(),
          ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
        },
        NoncurrentVersionExpiration: r.noncurrentExpiration && {
          NoncurrentDays: r.noncurrentExpiration.noncurrentDays,
          NewerNoncurrentVersions: r.noncurrentExpiration.newerNoncurrentVersions,
        },
        AbortIncompleteMultipartUpload: r.abortIncompleteDays === undefined ? undefined : { DaysAfterInitiation: r.abortIncompleteDays },
      })),
    },
  };
}

// ---- JSON at rest ----------------------------------------------------------------------------

/** Stored form (JSON text, versioned so the shape can change later). */
export function serializeLifecycle(rules: readonly LifecycleRule[]): string {
  return JSON.stringify({ v: 1, rules });
}

/** Reads the stored form back; anything unreadable is an error, never a silent "no lifecycle". */
export function deserializeLifecycle(json: string): LifecycleRule[] {
  const doc = JSON.parse(json) as { v?: unknown; rules?: unknown };
  if (doc.v !== 1 || !Array.isArray(doc.rules)) throw new Error('unreadable stored lifecycle configuration');
  for (const r of doc.rules as LifecycleRule[]) {
    if (typeof r.id !== 'string' || typeof r.enabled !== 'boolean' || typeof r.filter?.prefix !== 'string' || !Array.isArray(r.filter.tags)) {
      throw new Error('unreadable stored lifecycle rule');
    }
  }
  return doc.rules as LifecycleRule[];
}

/** The bucket's rules, or undefined when it has no lifecycle configuration (or no longer exists). */
export async function loadLifecycle(store: Store, bucket: string): Promise<LifecycleRule[] | undefined> {
  let json: string | undefined;
  try {
    json = await store.getBucketConfig(bucket, LIFECYCLE_CONFIG_NAME);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'NoSuchBucket') return undefined;
    throw err;
  }
  return json === undefined ? undefined : deserializeLifecycle(json);
}

/**
 * What x-amz-expiration reads: each Store's bucket → rules (or none), kept HEADER_CACHE_MS. A bucket
 * without lifecycle would otherwise cost two primary-key reads (bucket, document; ~17 µs) on every
 * GET, HEAD and PUT. Put/Delete of the configuration in this process drop the entry at once; another
 * process's change shows in the header within HEADER_CACHE_MS (the lifecycle job always reads afresh).
 */
const headerCache = new WeakMap<Store, Map<string, { rules: LifecycleRule[] | undefined; at: number; createdAt: number }>>();
const HEADER_CACHE_MS = 1000;
const HEADER_CACHE_MAX = 10_000;

/** Forgets the cached rules of a bucket (its configuration changed in this process). */
export function forgetLifecycle(store: Store, bucket: string): void {
  headerCache.get(store)?.delete(bucket);
}

/** `createdAt`: a bucket deleted and made again under the same name is another cache entry. */
async function cachedLifecycle(store: Store, bucket: string, createdAt: number): Promise<LifecycleRule[] | undefined> {
  let m = headerCache.get(store);
  if (!m) headerCache.set(store, (m = new Map()));
  const now = Date.now();
  const hit = m.get(bucket);
  if (hit && hit.createdAt === createdAt && now - hit.at < HEADER_CACHE_MS) return hit.rules;
  const rules = await loadLifecycle(store, bucket);
  if (m.size >= HEADER_CACHE_MAX) m.clear();
  m.set(bucket, { rules, at: now, createdAt });
  return rules;
}

/**
 * x-amz-expiration for GET, HEAD and PUT of the current version `rec` (not a delete marker): when an
 * enabled Expiration rule applies, its date and rule id; else nothing.
 */
export async function expirationHeaders(
  ctx: { store: Store; config: { lifecycleDayMs: number }; bucketRecord?: { createdAt: number } },
  rec: { bucket: string; key: string; size: number; tags?: Tag[]; lastModified: number; isLatest: boolean; isDeleteMarker: boolean },
): Promise<Record<string, string>> {
  if (!rec.isLatest || rec.isDeleteMarker) return {};
  const rules = await cachedLifecycle(ctx.store, rec.bucket, ctx.bucketRecord?.createdAt ?? 0);
  if (rules === undefined) return {};
  const exp = currentExpiry(rules, { key: rec.key, size: rec.size, tags: rec.tags ?? [], lastModified: rec.lastModified }, ctx.config.lifecycleDayMs);
  return exp ? { 'x-amz-expiration': expirationHeaderValue(exp.due, exp.ruleId) } : {};
}
