// Default bucket encryption as PutBucketEncryption / GetBucketEncryption speak it
// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html): the
// ServerSideEncryptionConfiguration document ↔ the stored rule (bucket config `encryption`, JSON
// `{algorithm, keyId?, bucketKey?}`) ↔ what a write without encryption headers gets (s3/sse.ts,
// writeEncryption). docs/encryption.md, "Default encryption".
import { keyIdOf, kmsKeyArn } from '../kms/arn.js';
import { S3Error } from './errors.js';
import { children, parseXml, text, token, type XmlBody, type XmlNode, type XmlValue } from './xml.js';

/** The bucket configuration name the rule is stored under. */
export const ENCRYPTION_CONFIG_NAME = 'encryption';

/** SSEAlgorithm as S3 names it: SSE-S3, SSE-KMS, DSSE-KMS. */
export type SseAlgorithm = 'AES256' | 'aws:kms' | 'aws:kms:dsse';
const ALGORITHMS: readonly string[] = ['AES256', 'aws:kms', 'aws:kms:dsse'];

/** A bucket's default encryption rule, as stored. */
export interface EncryptionRule {
  algorithm: SseAlgorithm;
  /** aws:kms / aws:kms:dsse: the master key's id (absent: the key service's default key). */
  keyId?: string;
  /** BucketKeyEnabled as given (absent: not given, answered false). */
  bucketKey?: boolean;
}

/** The server's own default (--sse-default AES256): what GetBucketEncryption answers for a bucket without a rule. */
export const SERVER_DEFAULT_RULE: Readonly<EncryptionRule> = Object.freeze({ algorithm: 'AES256', bucketKey: false });

const malformed = (): S3Error => new S3Error('MalformedXML');

/** The one child element `name` of `node` (undefined when absent; MalformedXML when repeated). */
function single(node: XmlNode, name: string): XmlValue | undefined {
  const found = children(node, name);
  if (found.length > 1) throw malformed();
  return found[0];
}

function isNode(v: XmlValue | undefined): v is XmlNode {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An xs:boolean (true, false, 1, 0; whitespace collapsed); anything else MalformedXML. */
function xsBoolean(v: XmlValue): boolean {
  const t = token(text(v));
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw malformed();
}

/**
 * Parses a ServerSideEncryptionConfiguration document: exactly one Rule, with an
 * ApplyServerSideEncryptionByDefault naming SSEAlgorithm (AES256, aws:kms, aws:kms:dsse), a
 * KMSMasterKeyID only for the KMS algorithms (a key id or a key ARN of this server), an optional
 * BucketKeyEnabled. MalformedXML for a document that does not follow the schema; InvalidArgument for a
 * key id with AES256; KMS.NotFoundException for a key id that is not well formed.
 */
export function parseEncryptionConfiguration(xml: string): EncryptionRule {
  const root = parseXml(xml, 'ServerSideEncryptionConfiguration', { maxElements: 64 });
  for (const name of Object.keys(root)) if (name !== 'Rule') throw malformed();
  const rule = single(root, 'Rule');
  if (!isNode(rule)) throw malformed();
  for (const name of Object.keys(rule)) if (name !== 'ApplyServerSideEncryptionByDefault' && name !== 'BucketKeyEnabled') throw malformed();
  const byDefault = single(rule, 'ApplyServerSideEncryptionByDefault');
  if (!isNode(byDefault)) throw malformed();
  for (const name of Object.keys(byDefault)) if (name !== 'SSEAlgorithm' && name !== 'KMSMasterKeyID') throw malformed();
  const algorithmValue = single(byDefault, 'SSEAlgorithm');
  const algorithm = algorithmValue === undefined ? undefined : text(algorithmValue);
  if (algorithm === undefined || !ALGORITHMS.includes(algorithm)) throw malformed();
  const out: EncryptionRule = { algorithm: algorithm as SseAlgorithm };
  const keyValue = single(byDefault, 'KMSMasterKeyID');
  if (keyValue !== undefined) {
    const ref = text(keyValue);
    if (ref === undefined) throw malformed();
    if (algorithm === 'AES256') {
      throw new S3Error('InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse', {
        ArgumentName: 'ApplyServerSideEncryptionByDefault',
      });
    }
    const keyId = keyIdOf(ref);
    if (keyId === undefined) throw new S3Error('KMS.NotFoundException', `Invalid keyId ${ref}`, { ArgumentName: 'KMSMasterKeyID' });
    out.keyId = keyId;
  }
  const bucketKey = single(rule, 'BucketKeyEnabled');
  if (bucketKey !== undefined) out.bucketKey = xsBoolean(bucketKey);
  return out;
}

/** The stored form of a rule. */
export function encryptionRuleJson(rule: EncryptionRule): string {
  return JSON.stringify(rule);
}

/** The stored rule (undefined: the bucket has none, or an unreadable one: never a guess). */
export function storedEncryptionRule(json: string | undefined): EncryptionRule | undefined {
  if (json === undefined) return undefined;
  const v = JSON.parse(json) as Partial<EncryptionRule>;
  if (typeof v.algorithm !== 'string' || !ALGORITHMS.includes(v.algorithm)) return undefined;
  const rule: EncryptionRule = { algorithm: v.algorithm };
  if (typeof v.keyId === 'string') rule.keyId = v.keyId;
  if (typeof v.bucketKey === 'boolean') rule.bucketKey = v.bucketKey;
  return rule;
}

/** The GetBucketEncryption answer: the rule, its key as an ARN, BucketKeyEnabled always (false when not set). */
export function encryptionConfigurationXml(rule: EncryptionRule, region: string): XmlBody {
  const byDefault: XmlNode = { SSEAlgorithm: rule.algorithm };
  if (rule.keyId !== undefined) byDefault.KMSMasterKeyID = kmsKeyArn(rule.keyId, region);
  return {
    root: 'ServerSideEncryptionConfiguration',
    content: { Rule: { ApplyServerSideEncryptionByDefault: byDefault, BucketKeyEnabled: rule.bucketKey === true } },
  };
}
