// Object Ownership: who owns the objects written to a bucket and whether its ACLs count. Stored as
// {"ObjectOwnership": "…"} under OWNERSHIP_CONFIG_NAME; absent, a bucket behaves as ObjectWriter
// (ACLs enabled: Strata's default, docs/iam.md "ACLs and Object Ownership").
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html
import { S3Error } from './errors.js';
import { children, parseXml, text, type XmlNode } from './xml.js';

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';
const SETTINGS: readonly string[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];

/** The stored setting (undefined: none was ever set; the bucket behaves as ObjectWriter). */
export function storedOwnership(json: string | undefined): ObjectOwnership | undefined {
  if (json === undefined) return undefined;
  const v = (JSON.parse(json) as { ObjectOwnership?: string }).ObjectOwnership;
  return v !== undefined && SETTINGS.includes(v) ? (v as ObjectOwnership) : undefined;
}

/** The setting in force: the stored one, else ObjectWriter. */
export function ownershipOf(json: string | undefined): ObjectOwnership {
  return storedOwnership(json) ?? 'ObjectWriter';
}

export function ownershipJson(o: ObjectOwnership): string {
  return JSON.stringify({ ObjectOwnership: o });
}

/** CreateBucket's x-amz-object-ownership header (InvalidArgument for another value). */
export function parseOwnershipHeader(value: string): ObjectOwnership {
  if (SETTINGS.includes(value)) return value as ObjectOwnership;
  throw new S3Error('InvalidArgument', 'Invalid x-amz-object-ownership header', { ArgumentName: 'x-amz-object-ownership', ArgumentValue: value });
}

/** An OwnershipControls document: exactly one Rule with one ObjectOwnership (MalformedXML otherwise). */
export function parseOwnershipControls(xml: string): ObjectOwnership {
  const root = parseXml(xml, 'OwnershipControls');
  const rules = children(root, 'Rule');
  const rule = rules[0];
  if (rules.length !== 1 || rule === null || typeof rule !== 'object' || Array.isArray(rule)) throw new S3Error('MalformedXML');
  const values = children(rule, 'ObjectOwnership');
  const value = values.length === 1 ? text(values[0]) : undefined;
  if (value === undefined || !SETTINGS.includes(value)) throw new S3Error('MalformedXML');
  return value as ObjectOwnership;
}

/** The OwnershipControls document of a setting (GetBucketOwnershipControls). */
export function ownershipControlsXml(o: ObjectOwnership): XmlNode {
  return { Rule: { ObjectOwnership: o } };
}
