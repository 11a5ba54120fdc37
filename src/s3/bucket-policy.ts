// Bucket policies: the stored document, compiled for authorize(), with Block Public Access applied.
// (Put/Get/DeleteBucketPolicy, GetBucketPolicyStatus and the PublicAccessBlock operations build on it.)
import type { CompiledPolicy } from '../iam/policy.js';
import type { BucketRecord } from '../store/types.js';
import type { BucketAccessConfigs } from './bucket-access.js';

/** The bucket's policy as authorize() applies it (undefined: none, or ignored by Block Public Access). */
export function bucketPolicyAccess(_bucket: BucketRecord, _configs: BucketAccessConfigs): CompiledPolicy | undefined {
  return undefined; // TODO(bucket policies): compile configs.policy (cached by text), apply RestrictPublicBuckets
}
