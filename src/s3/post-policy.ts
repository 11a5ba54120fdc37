// POST Object (browser form upload) policies: the base64 JSON policy document, its conditions,
// the coverage rule for form fields, and the form's signature (SigV4 or SigV2). Pure functions;
// the handler (operations/post-object.ts) feeds them the form fields.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/HTTPPOSTForms.html (SigV2)
import { createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from './errors.js';
import { signV2 } from './auth/sigv2.js';
import type { AuthResult, CredentialLookup } from './auth/sigv4.js';
import { deriveSigningKey } from './auth/sigv4.js';

/** An `eq` or `starts-with` condition on one form field (name lowercased, without the '$'). */
export interface FieldCondition {
  op: 'eq' | 'starts-with';
  field: string;
  value: string;
  /** The condition as S3 prints it in "Policy Condition failed: [...]". */
  text: string;
}

export interface PostPolicy {
  /** ms since the epoch. */
  expiration: number;
  conditions: FieldCondition[];
  /** From content-length-range (intersected if given several times); 0 / Infinity without one. */
  minLength: number;
  maxLength: number;
}

/** Form fields that never need a condition: the signature material, the file, and x-ignore-*. */
const EXEMPT_FIELDS = new Set(['policy', 'signature', 'x-amz-signature', 'awsaccesskeyid', 'file']);

export function isExemptField(name: string): boolean {
  return EXEMPT_FIELDS.has(name) || name.startsWith('x-ignore-');
}

function invalidPolicy(detail: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${detail}`);
}

function policyFailed(detail: string): S3Error {
  return new S3Error('AccessDenied', `Invalid according to Policy: ${detail}`);
}

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** 'YYYY-MM-DDTHH:MM:SS[.fff]Z' → ms, or undefined (out-of-range fields included). */
export function parseIsoExpiration(s: string): number | undefined {
  const m = ISO_8601.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = [+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
  const t = Date.UTC(y, mo, d, h, mi, sec);
  const back = new Date(t);
  if (
    back.getUTCFullYear() !== y ||
    back.getUTCMonth() !== mo ||
    back.getUTCDate() !== d ||
    back.getUTCHours() !== h ||
    back.getUTCMinutes() !== mi ||
    back.getUTCSeconds() !== sec
  )
    return undefined;
  const frac = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return t + frac;
}

/** A content-length-range bound: a non-negative safe integer, as a JSON number or a decimal string. */
function lengthBound(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v)) return Number(v);
  return undefined;
}

/** The field a condition names: '$Key' → 'key'. */
function conditionField(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 1 && v.startsWith('$') ? v.slice(1).toLowerCase() : undefined;
}

/**
 * Decodes and validates a policy (400 InvalidPolicyDocument when malformed) and refuses an expired
 * one (403 AccessDenied "Invalid according to Policy: Policy expired.").
 */
export function parsePostPolicy(policyBase64: string, now: number): PostPolicy {
  // Some encoders wrap base64 at 76 columns; the signature covers the field as sent, the JSON is what is decoded.
  const compact = policyBase64.replace(/[\r\n\t ]/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw invalidPolicy('Policy is not valid base64.');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(compact, 'base64').toString('utf8'));
  } catch {
    throw invalidPolicy('Invalid JSON.');
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalidPolicy('Invalid JSON.');
  const { expiration, conditions } = doc as { expiration?: unknown; conditions?: unknown };
  if (expiration === undefined) throw invalidPolicy('Policy missing expiration.');
  const expMs = typeof expiration === 'string' ? parseIsoExpiration(expiration) : undefined;
  if (expMs === undefined) throw invalidPolicy(`Invalid 'expiration' value: '${String(expiration)}'`);
  if (conditions === undefined) throw invalidPolicy('Policy missing conditions.');
  if (!Array.isArray(conditions)) throw invalidPolicy("Invalid 'conditions' value: must be a List.");

  const policy: PostPolicy = { expiration: expMs, conditions: [], minLength: 0, maxLength: Infinity };
  for (const c of conditions) {
    if (Array.isArray(c)) {
      const op = typeof c[0] === 'string' ? c[0].toLowerCase() : undefined;
      if (op === 'content-length-range') {
        const min = lengthBound(c[1]);
        const max = lengthBound(c[2]);
        if (c.length !== 3 || min === undefined || max === undefined || min > max) {
          throw invalidPolicy(`Invalid content-length-range condition: ${JSON.stringify(c)}`);
        }
        policy.minLength = Math.max(policy.minLength, min);
        policy.maxLength = Math.min(policy.maxLength, max);
        continue;
      }
      const field = conditionField(c[1]);
      if ((op !== 'eq' && op !== 'starts-with') || c.length !== 3 || field === undefined || typeof c[2] !== 'string') {
        throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
      }
      policy.conditions.push({ op, field, value: c[2], text: `["${op}", ${JSON.stringify(c[1])}, ${JSON.stringify(c[2])}]` });
    } else if (c !== null && typeof c === 'object') {
      const entries = Object.entries(c as Record<string, unknown>);
      if (entries.length !== 1) {
        throw invalidPolicy('Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.');
      }
      const [name, value] = entries[0]!;
      if (typeof value !== 'string') throw invalidPolicy(`Invalid Simple-Condition: value of '${name}' must be a String.`);
      policy.conditions.push({ op: 'eq', field: name.toLowerCase(), value, text: `["eq", ${JSON.stringify(`$${name}`)}, ${JSON.stringify(value)}]` });
    } else {
      throw invalidPolicy(`Invalid Condition: ${JSON.stringify(c)}`);
    }
  }
  if (now > policy.expiration) throw policyFailed('Policy expired.');
  return policy;
}

function conditionHolds(c: FieldCondition, value: string): boolean {
  if (c.op === 'eq') return value === c.value;
  // A Content-Type field may list several types, comma-separated: each must carry the prefix.
  if (c.field === 'content-type') return value.split(',').every((t) => t.trim().startsWith(c.value));
  return value.startsWith(c.value);
}

/**
 * Checks every condition against the form fields (names lowercased; `bucket` and the final `key`
 * included by the caller; an absent field counts as ''), then that every field is covered by a
 * condition (except isExemptField ones). Throws 403 AccessDenied "Invalid according to Policy: ...".
 */
export function checkPolicyConditions(policy: PostPolicy, fields: ReadonlyMap<string, string>): void {
  for (const c of policy.conditions) {
    if (!conditionHolds(c, fields.get(c.field) ?? '')) throw policyFailed(`Policy Condition failed: ${c.text}`);
  }
  const covered = new Set(policy.conditions.map((c) => c.field));
  const extra = [...fields.keys()].filter((name) => !isExemptField(name) && !covered.has(name));
  if (extra.length > 0) throw policyFailed(`Extra input fields: ${extra.join(', ')}`);
}

/**
 * A form with no policy and no signature material at all: an anonymous upload, allowed only where
 * a bucket policy grants s3:PutObject to everyone (then no policy conditions apply: there is none).
 */
export function isAnonymousForm(fields: ReadonlyMap<string, string>): boolean {
  return !['policy', 'signature', 'awsaccesskeyid', 'x-amz-signature', 'x-amz-credential', 'x-amz-algorithm'].some((name) => fields.has(name));
}

/** What an anonymous form is held to: nothing beyond the server's own bounds. */
export const NO_POST_POLICY: PostPolicy = Object.freeze({
  expiration: Number.POSITIVE_INFINITY,
  conditions: [],
  minLength: 0,
  maxLength: Number.POSITIVE_INFINITY,
});

// ---------------------------------------------------------------------------------------------
// Signature

function missingField(name: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${name}'.  If it is specified, please check the order of the fields.`, {
    ArgumentName: name,
    ArgumentValue: '',
  });
}

function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** SigV4 form signature: hex(HMAC-SHA256(signingKey, policyBase64)). */
export function postSignatureV4(signingKey: Buffer, policyBase64: string): string {
  return createHmac('sha256', signingKey).update(policyBase64, 'utf8').digest('hex');
}

/** SigV2 form signature: base64(HMAC-SHA1(secret, policyBase64)). */
export function postSignatureV2(secret: string, policyBase64: string): string {
  return signV2(secret, policyBase64);
}

export interface PostAuthOptions {
  region: string;
}

const CREDENTIAL = /^(.+)\/(\d{8})\/([^/]+)\/([^/]+)\/([^/]+)$/;
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

function credentialError(detail: string, fields: Record<string, string> = {}): S3Error {
  return new S3Error('InvalidArgument', `Invalid x-amz-credential: ${detail}`, { ArgumentName: 'x-amz-credential', ...fields });
}

/**
 * Authenticates a form from its fields (names lowercased): SigV4 (x-amz-algorithm, x-amz-credential,
 * x-amz-date, x-amz-signature) or SigV2 (AWSAccessKeyId, signature), both over the policy field as
 * sent. A form with neither is anonymous and refused (no bucket policies yet).
 */
export function verifyPostSignature(fields: ReadonlyMap<string, string>, lookup: CredentialLookup, opts: PostAuthOptions): AuthResult {
  const policy = fields.get('policy');
  const isV4 = fields.has('x-amz-signature') || fields.has('x-amz-algorithm') || fields.has('x-amz-credential');
  const isV2 = fields.has('signature') || fields.has('awsaccesskeyid');

  if (isV4) {
    const algorithm = fields.get('x-amz-algorithm');
    const credential = fields.get('x-amz-credential');
    const amzDate = fields.get('x-amz-date');
    const signature = fields.get('x-amz-signature');
    if (algorithm === undefined) throw missingField('x-amz-algorithm');
    if (algorithm !== 'AWS4-HMAC-SHA256') {
      throw new S3Error('InvalidArgument', 'The x-amz-algorithm must be AWS4-HMAC-SHA256.', { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm });
    }
    if (credential === undefined) throw missingField('x-amz-credential');
    if (amzDate === undefined) throw missingField('x-amz-date');
    if (signature === undefined) throw missingField('x-amz-signature');
    if (policy === undefined) throw missingField('policy');
    const m = CREDENTIAL.exec(credential);
    if (!m) throw credentialError('expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".');
    const [, accessKey, date, region, service, terminal] = m as unknown as [string, string, string, string, string, string];
    if (service !== 's3' || terminal !== 'aws4_request') throw credentialError(`incorrect service or terminal "${service}/${terminal}".`);
    if (region !== opts.region) throw credentialError(`the region '${region}' is wrong; expecting '${opts.region}'`, { Region: opts.region });
    const d = AMZ_DATE.exec(amzDate);
    if (!d || d[1] !== date) {
      throw new S3Error('InvalidArgument', 'x-amz-date must be yyyyMMddTHHmmssZ and match the date of x-amz-credential.', {
        ArgumentName: 'x-amz-date',
        ArgumentValue: amzDate,
      });
    }
    const creds = lookup(accessKey);
    if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
    const key = deriveSigningKey(creds.secretKey, date, region, 's3');
    if (!constantTimeEqual(postSignatureV4(key, policy), signature.toLowerCase())) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKey });
    }
    return {
      accessKey,
      payloadHash: 'UNSIGNED-PAYLOAD',
      signingKey: key,
      signature,
      scope: `${date}/${region}/s3/aws4_request`,
      amzDate,
      presigned: true,
    };
  }

  if (isV2) {
    const accessKey = fields.get('awsaccesskeyid');
    const signature = fields.get('signature');
    if (accessKey === undefined || accessKey === '') throw missingField('AWSAccessKeyId');
    if (signature === undefined) throw missingField('Signature');
    if (policy === undefined) throw missingField('Policy');
    const creds = lookup(accessKey);
    if (creds === undefined) throw new S3Error('InvalidAccessKeyId', undefined, { AWSAccessKeyId: accessKey });
    if (!constantTimeEqual(postSignatureV2(creds.secretKey, policy), signature)) {
      throw new S3Error('SignatureDoesNotMatch', undefined, { AWSAccessKeyId: accessKey });
    }
    return {
      accessKey,
      payloadHash: 'UNSIGNED-PAYLOAD',
      signingKey: Buffer.alloc(0),
      signature: '',
      scope: '',
      amzDate: '',
      presigned: true,
    };
  }

  if (policy !== undefined) throw missingField('AWSAccessKeyId');
  throw new S3Error('AccessDenied', 'Anonymous access is not allowed; sign the form with a policy.');
}
