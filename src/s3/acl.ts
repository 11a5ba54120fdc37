// Access control lists: the stored grants of buckets and objects, and the ACL check authorize() asks
// after an implicit deny (BucketAccess.acl). Undefined when the bucket's Object Ownership is
// BucketOwnerEnforced (ACLs disabled).
import type { BucketAccess } from '../iam/authorize.js';
import type { Store } from '../store/store.js';
import type { BucketRecord } from '../store/types.js';
import type { BucketAccessConfigs } from './bucket-access.js';

/** The ACL check of a bucket (undefined: ACLs disabled, or none grants anything beyond the owner). */
export function aclAccess(_store: Store, _bucket: BucketRecord, _configs: BucketAccessConfigs): BucketAccess['acl'] {
  return undefined; // TODO(ACLs): bucket grants from configs.acl, object grants from the object's record
}
