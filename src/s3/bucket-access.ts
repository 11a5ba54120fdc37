// What a bucket says about who may do what with it, beside the caller's own policies: its bucket
// policy (bucket-policy.ts), its Block Public Access switches and its ACLs (acl.ts, unless Object
// Ownership is BucketOwnerEnforced). The pipeline loads it once per request for every principal but
// root (the root principal is allowed outright: nothing is read for it), with the bucket in one
// statement (loadBucketWithAccess), and leaves it on ctx.bucketAccess; checkAccess (access.ts) hands it to authorize(). The copy source's bucket is
// loaded the same way by copy-source.ts.
import { ENCRYPTION_CONFIG_NAME } from './bucket-encryption.js';
import type { BucketAccess } from '../iam/authorize.js';
import { StoreError } from '../store/errors.js';
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

/** The bucket_config names authorization reads, in one statement with the bucket (getBucketWithConfigs). */
export const ACCESS_CONFIG_NAMES: readonly string[] = [POLICY_CONFIG_NAME, PUBLIC_ACCESS_BLOCK_CONFIG_NAME, OWNERSHIP_CONFIG_NAME, BUCKET_ACL_CONFIG_NAME];

function accessConfigsOf(found: ReadonlyMap<string, string>): BucketAccessConfigs {
  return {
    policy: found.get(POLICY_CONFIG_NAME),
    publicAccessBlock: found.get(PUBLIC_ACCESS_BLOCK_CONFIG_NAME),
    ownership: found.get(OWNERSHIP_CONFIG_NAME),
    acl: found.get(BUCKET_ACL_CONFIG_NAME),
  };
}

/** Reads the bucket's access configurations (one statement). Throws NoSuchBucket. */
export async function readBucketAccessConfigs(store: Store, bucket: string): Promise<BucketAccessConfigs> {
  const found = await store.getBucketWithConfigs(bucket, ACCESS_CONFIG_NAMES);
  if (found === undefined) throw new StoreError('NoSuchBucket');
  return accessConfigsOf(found.configs);
}

function accessOf(store: Store, bucket: BucketRecord, configs: BucketAccessConfigs): BucketAccess {
  const policy = bucketPolicyAccess(bucket, configs);
  const acl = aclAccess(store, bucket, configs);
  return { ...(policy !== undefined && { policy }), ...(acl !== undefined && { acl }) };
}

/** The BucketAccess of an existing bucket, for authorize(). */
export async function loadBucketAccess(store: Store, bucket: BucketRecord): Promise<BucketAccess> {
  return accessOf(store, bucket, await readBucketAccessConfigs(store, bucket.name));
}

/**
 * The bucket and its BucketAccess in one read (the pipeline's load-bucket stage for every principal
 * but root), with the identity generation of the same snapshot (it confirms a cached principal:
 * s3/auth/cached.ts); all undefined when the bucket does not exist.
 */
export function loadBucketWithAccess(
  store: Store,
  name: string,
  withEncryption = false,
): Promise<{ bucket?: BucketRecord; access?: BucketAccess; identityGeneration?: number; encryption?: string | null }> {
  return store.getBucketWithConfigs(name, withEncryption ? ACCESS_AND_ENCRYPTION : ACCESS_CONFIG_NAMES).then((found) =>
    found === undefined
      ? {}
      : {
          bucket: found.bucket,
          access: accessOf(store, found.bucket, accessConfigsOf(found.configs)),
          identityGeneration: found.identityGeneration,
          ...(withEncryption && { encryption: found.configs.get(ENCRYPTION_CONFIG_NAME) ?? null }),
        },
  );
}

/** The writes that may take the bucket's default encryption: the pipeline loads its rule with the bucket. */
export const WRITES_WITH_DEFAULT_ENCRYPTION: ReadonlySet<string> = new Set(['PutObject', 'CopyObject', 'CreateMultipartUpload']);

const ACCESS_AND_ENCRYPTION: readonly string[] = [...ACCESS_CONFIG_NAMES, ENCRYPTION_CONFIG_NAME];

/** Root's load-bucket stage for a write that may encrypt: the bucket and its encryption rule in one statement. */
export async function loadBucketWithEncryption(store: Store, name: string): Promise<{ bucket?: BucketRecord; encryption?: string | null }> {
  const found = await store.getBucketWithConfigs(name, [ENCRYPTION_CONFIG_NAME]);
  return found === undefined ? {} : { bucket: found.bucket, encryption: found.configs.get(ENCRYPTION_CONFIG_NAME) ?? null };
}
