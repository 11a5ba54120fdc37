// The object-lock XML documents: ObjectLockConfiguration (PutObjectLockConfiguration, with the
// bucket's default retention, stored as the bucket config document 'object-lock'), Retention
// (PutObjectRetention) and LegalHold (PutObjectLegalHold), parsed and refused as S3 refuses them,
// and the answers of their GET operations. See docs/s3-compatibility.md, "Object lock".
import type { Retention, RetentionMode } from '../store/types.js';
import { S3Error } from './errors.js';
import { children, parseXml, token, type XmlBody, type XmlNode, type XmlValue } from './xml.js';

/** The bucket config document holding the default retention (JSON of DefaultRetention). */
export const LOCK_CONFIG_NAME = 'object-lock';

/** A bucket's default retention: a mode and exactly one of days or years. */
export interface DefaultRetention {
  mode: RetentionMode;
  days?: number;
  years?: number;
}

/** What PutObjectLockConfiguration sets: object lock on, and the default retention or none. */
export interface LockConfiguration {
  rule?: DefaultRetention;
}

const MODES: readonly string[] = ['GOVERNANCE', 'COMPLIANCE'];
/** The longest default retention we keep (S3 allows 100 years); a longer one would overflow dates. */
const MAX_DAYS = 36_500;
const MAX_YEARS = 100;

/**
 * An ISO 8601 date-time (what every SDK sends: `2030-01-01T00:00:00Z`, `…00.000Z`, or an offset)
 * as milliseconds since the epoch; undefined for anything else. Sub-millisecond digits are cut.
 */
export function parseIsoDateTime(v: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as string[];
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  let t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  // Date.UTC rolls over (month 13, day 32…): such a date is not a date.
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d)) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (zone !== 'Z') {
    const z = zone!.replace(':', '');
    const offset = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
    t += z[0] === '+' ? -offset : offset;
  }
  return Number.isFinite(t) ? t : undefined;
}

/** An ISO 8601 date with milliseconds, as S3 writes x-amz-object-lock-retain-until-date and RetainUntilDate. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

const malformed = (why?: string): S3Error =>
  new S3Error(
    'MalformedXML',
    why === undefined ? undefined : `The XML you provided was not well-formed or did not validate against our published schema: ${why}.`,
  );

/** The element's child elements, refusing any name not in `allowed` (S3 validates against its schema). */
function only(node: XmlValue, allowed: readonly string[], where: string): XmlNode {
  if (node === '' || node === undefined) return {}; // an empty element
  if (typeof node !== 'object' || node === null || Array.isArray(node)) throw malformed(`<${where}> must hold elements`);
  for (const name of Object.keys(node)) if (!allowed.includes(name)) throw malformed(`unexpected <${name}> in <${where}>`);
  return node;
}

/** The text of a child element that may appear at most once (undefined when absent). */
function single(node: XmlNode, name: string): XmlValue | undefined {
  const values = children(node, name);
  if (values.length > 1) throw malformed(`more than one <${name}>`);
  return values[0];
}

function leaf(node: XmlNode, name: string): string | undefined {
  const v = single(node, name);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw malformed(`<${name}> must hold text`);
  return v;
}

/** A positive whole number of days or years, as S3 checks a DefaultRetention period. */
function period(text: string, name: 'Days' | 'Years'): number {
  const t = token(text) ?? '';
  if (!/^[+-]?\d{1,12}$/.test(t)) throw malformed(`<${name}> is not an integer`);
  const n = Number(t);
  if (n <= 0) throw new S3Error('InvalidArgument', 'Default retention period must be a positive integer value.', { ArgumentName: name });
  if (n > (name === 'Days' ? MAX_DAYS : MAX_YEARS)) {
    throw new S3Error('InvalidArgument', `Default retention period must be a positive integer value of at most ${MAX_DAYS} days or ${MAX_YEARS} years.`, {
      ArgumentName: name,
    });
  }
  return n;
}

/**
 * PutObjectLockConfiguration's body. ObjectLockEnabled must be `Enabled`; a Rule holds one
 * DefaultRetention with a Mode and exactly one of Days / Years. Unknown elements, another status or
 * mode (modes are upper case), both or neither period → MalformedXML; a period not positive →
 * InvalidArgument (S3's message, ArgumentName).
 */
export function parseLockConfiguration(xml: string): LockConfiguration {
  const root = only(parseXml(xml, 'ObjectLockConfiguration'), ['ObjectLockEnabled', 'Rule'], 'ObjectLockConfiguration');
  if (leaf(root, 'ObjectLockEnabled') !== 'Enabled') throw malformed('ObjectLockEnabled must be Enabled');
  const ruleNode = single(root, 'Rule');
  if (ruleNode === undefined) return {};
  const rule = only(ruleNode, ['DefaultRetention'], 'Rule');
  const dr = single(rule, 'DefaultRetention');
  if (dr === undefined) throw malformed('a Rule needs a DefaultRetention');
  const retention = only(dr, ['Mode', 'Days', 'Years'], 'DefaultRetention');
  const mode = leaf(retention, 'Mode');
  if (mode === undefined || !MODES.includes(mode)) throw malformed('DefaultRetention needs a Mode of GOVERNANCE or COMPLIANCE');
  const days = leaf(retention, 'Days');
  const years = leaf(retention, 'Years');
  if ((days === undefined) === (years === undefined)) throw malformed('DefaultRetention needs exactly one of Days and Years');
  const out: DefaultRetention = { mode: mode as RetentionMode };
  if (days !== undefined) out.days = period(days, 'Days');
  else out.years = period(years!, 'Years');
  return { rule: out };
}

/** The default retention as stored in the bucket config document. */
export function serializeDefault(rule: DefaultRetention): string {
  return JSON.stringify(rule.days !== undefined ? { mode: rule.mode, days: rule.days } : { mode: rule.mode, years: rule.years });
}

export function parseStoredDefault(json: string): DefaultRetention {
  const v = JSON.parse(json) as DefaultRetention;
  return v.days !== undefined ? { mode: v.mode, days: v.days } : { mode: v.mode, years: v.years };
}

/** GetObjectLockConfiguration's answer for a bucket with object lock. */
export function lockConfigurationXml(rule: DefaultRetention | undefined): XmlBody {
  return {
    root: 'ObjectLockConfiguration',
    content: {
      ObjectLockEnabled: 'Enabled',
      Rule: rule === undefined ? undefined : { DefaultRetention: { Mode: rule.mode, Days: rule.days, Years: rule.years } },
    },
  };
}

/**
 * PutObjectRetention's body: Mode and RetainUntilDate (ISO 8601) together, or neither (an empty
 * Retention: remove the retention, null). Another mode, one without the other, a date that is not
 * one → MalformedXML; a date not in the future → InvalidArgument (as for the header).
 */
export function parseRetention(xml: string, now: number): Retention | null {
  const root = only(parseXml(xml, 'Retention'), ['Mode', 'RetainUntilDate'], 'Retention');
  const mode = leaf(root, 'Mode');
  const until = leaf(root, 'RetainUntilDate');
  if (mode === undefined && until === undefined) return null;
  if (mode === undefined || until === undefined) throw malformed('Retention needs both Mode and RetainUntilDate, or neither');
  if (!MODES.includes(mode)) throw malformed('Mode must be GOVERNANCE or COMPLIANCE');
  const ms = parseIsoDateTime(token(until) ?? '');
  if (ms === undefined) throw malformed('RetainUntilDate is not an ISO 8601 date');
  if (ms <= now) throw new S3Error('InvalidArgument', 'The retain until date must be in the future!');
  return { mode: mode as RetentionMode, until: ms };
}

/** GetObjectRetention's answer. */
export function retentionXml(r: Retention): XmlBody {
  return { root: 'Retention', content: { Mode: r.mode, RetainUntilDate: isoDate(r.until) } };
}

/** PutObjectLegalHold's body: Status ON or OFF (anything else MalformedXML). */
export function parseLegalHold(xml: string): boolean {
  const root = only(parseXml(xml, 'LegalHold'), ['Status'], 'LegalHold');
  const status = leaf(root, 'Status');
  if (status !== 'ON' && status !== 'OFF') throw malformed('Status must be ON or OFF');
  return status === 'ON';
}

/** GetObjectLegalHold's answer. */
export function legalHoldXml(on: boolean): XmlBody {
  return { root: 'LegalHold', content: { Status: on ? 'ON' : 'OFF' } };
}
