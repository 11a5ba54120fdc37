// Block Public Access of a bucket as PutPublicAccessBlock / GetPublicAccessBlock speak it: the
// PublicAccessBlockConfiguration document ↔ the stored PublicAccessBlock (bucket-access.ts), which
// bucket-policy.ts (BlockPublicPolicy, RestrictPublicBuckets) and acl.ts (the ACL switches) apply.
import type { PublicAccessBlock } from './bucket-access.js';
import { PUBLIC_ACCESS_BLOCK_CONFIG_NAME, publicAccessBlockOf } from './bucket-access.js';
import { S3Error } from './errors.js';
import type { Store } from '../store/store.js';
import type { XmlBody } from './xml.js';
import { parseXml, text, token } from './xml.js';

const SWITCHES = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** An xs:boolean (true, false, 1, 0; whitespace collapsed); absent is false, anything else MalformedXML. */
function switchValue(v: string | undefined): boolean {
  const t = token(v);
  if (t === undefined || t === 'false' || t === '0') return false;
  if (t === 'true' || t === '1') return true;
  throw new S3Error('MalformedXML');
}

/** Parses a PublicAccessBlockConfiguration document: each switch absent is off. */
export function parsePublicAccessBlockXml(body: string): PublicAccessBlock {
  const root = parseXml(body, 'PublicAccessBlockConfiguration');
  for (const name of Object.keys(root)) if (!(SWITCHES as readonly string[]).includes(name)) throw new S3Error('MalformedXML');
  const out: Record<string, boolean> = {};
  for (const name of SWITCHES) {
    const v = root[name];
    if (Array.isArray(v)) throw new S3Error('MalformedXML');
    out[name] = switchValue(text(v));
  }
  return out as unknown as PublicAccessBlock;
}

/** The GetPublicAccessBlock answer: the four switches. */
export function publicAccessBlockXml(pab: PublicAccessBlock): XmlBody {
  return { root: 'PublicAccessBlockConfiguration', content: Object.fromEntries(SWITCHES.map((name) => [name, pab[name]])) };
}

/** The bucket's stored switches, or undefined when it has no configuration. */
export async function loadPublicAccessBlock(store: Store, bucket: string): Promise<PublicAccessBlock | undefined> {
  const stored = await store.getBucketConfig(bucket, PUBLIC_ACCESS_BLOCK_CONFIG_NAME);
  return stored === undefined ? undefined : publicAccessBlockOf({ publicAccessBlock: stored });
}

/** Stores the switches (undefined: removes the configuration). */
export async function storePublicAccessBlock(store: Store, bucket: string, pab: PublicAccessBlock | undefined): Promise<void> {
  await store.putBucketConfig(bucket, PUBLIC_ACCESS_BLOCK_CONFIG_NAME, pab === undefined ? undefined : JSON.stringify(pab));
}
