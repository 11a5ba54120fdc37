// What a bucket says about who may do what with it, beside the caller's own policies: its bucket
// policy (bucket-policy.ts), its Block Public Access switches and its ACLs (acl.ts, unless Object
// Ownership is BucketOwnerEnforced). The pipeline loads it once per request for every principal but
// root (the root principal is allowed outright: nothing is read for it) and leaves it on
// ctx.bucketAccess; checkAccess (access.ts) hands it to authorize(). The copy source's bucket is
// loaded the same way by copy-source.ts.
import type { BucketAccess } from '../iam/authorize.js';
import type { Store } from '../store/store.js';
import type { BucketRecord } from '../store/types.js';
import { aclAccess } from './acl.js';
import { bucketPolicyAccess } from './bucket-policy.js';

/** The bucket configurations access decisions read (bucket_config names). */
export const POLICY_CONFIG_NAME = 'policy';
export const PUBLIC_ACCESS_BLOCK_CONFIG_NAME = 'public-access-block';
export const OWNERSHIP_CONFIG_NAME = 'ownership-controls';
export const BUCKET_ACL_CONFIG_NAME = 'acl';

/** The bucket's stored access configurations (JSON text as stored; undefined: none). */
export interface BucketAccessConfigs {
  readonly policy?: string;
  readonly publicAccessBlock?: string;
  readonly ownership?: string;
  readonly acl?: string;
}

/**
 * Block Public Access, as PutPublicAccessBlock sets it for a bucket (stored as this JSON object under
 * PUBLIC_ACCESS_BLOCK_CONFIG_NAME). Absent: every switch off.
 */
export interface PublicAccessBlock {
  /** PUTs of public ACLs (bucket, object, canned or granted) are refused with AccessDenied. */
  readonly BlockPublicAcls: boolean;
  /** Public ACL grants are ignored by authorization. */
  readonly IgnorePublicAcls: boolean;
  /** PutBucketPolicy of a public policy is refused with AccessDenied. */
  readonly BlockPublicPolicy: boolean;
  /** A public bucket policy grants nothing to callers outside the account (anonymous callers). */
  readonly RestrictPublicBuckets: boolean;
}

export const NO_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = Object.freeze({
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
});

/** The bucket's Block Public Access switches (all off when none is stored). */
export function publicAccessBlockOf(configs: BucketAccessConfigs): PublicAccessBlock {
  if (configs.publicAccessBlock === undefined) return NO_PUBLIC_ACCESS_BLOCK;
  const stored = JSON.parse(configs.publicAccessBlock) as Partial<PublicAccessBlock>;
  return {
    BlockPublicAcls: stored.BlockPublicAcls === true,
    IgnorePublicAcls: stored.IgnorePublicAcls === true,
    BlockPublicPolicy: stored.BlockPublicPolicy === true,
    RestrictPublicBuckets: stored.RestrictPublicBuckets === true,
  };
}

/** Reads the bucket's access configurations. */
export async function readBucketAccessConfigs(store: Store, bucket: string): Promise<BucketAccessConfigs> {
  const [policy, publicAccessBlock, ownership, acl] = await Promise.all([
    store.getBucketConfig(bucket, POLICY_CONFIG_NAME),
    store.getBucketConfig(bucket, PUBLIC_ACCESS_BLOCK_CONFIG_NAME),
    store.getBucketConfig(bucket, OWNERSHIP_CONFIG_NAME),
    store.getBucketConfig(bucket, BUCKET_ACL_CONFIG_NAME),
  ]);
  return { policy, publicAccessBlock, ownership, acl };
}

/** The BucketAccess of an existing bucket, for authorize(). */
export async function loadBucketAccess(store: Store, bucket: BucketRecord): Promise<BucketAccess> {
  const configs = await readBucketAccessConfigs(store, bucket.name);
  const policy = bucketPolicyAccess(bucket, configs);
  const acl = aclAccess(store, bucket, configs);
  return { ...(policy !== undefined && { policy }), ...(acl !== undefined && { acl }) };
}
