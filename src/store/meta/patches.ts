// The rules of a bucket's and an object version's metadata-only changes (MetaStore.updateBucket,
// updateObject), shared by the metadata stores: each reads the row in its transaction, applies
// these, and writes the result back.
import { StoreError } from '../errors.js';
import { checkRetentionChange } from '../object-lock.js';
import type { BucketPatch, BucketRecord, ObjectPatch, ObjectRecord } from '../types.js';

/**
 * Applies `patch` to `b` (in place). Throws StoreError('InvalidBucketState') for suspending
 * versioning of an object-lock bucket or enabling object lock while versioning is not Enabled.
 */
export function applyBucketPatch(b: BucketRecord, patch: BucketPatch): BucketRecord {
  if (patch.versioning !== undefined) {
    if (patch.versioning === 'Suspended' && b.objectLock)
      throw new StoreError('InvalidBucketState', 'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
    b.versioning = patch.versioning;
  }
  if (patch.objectLock === true && !b.objectLock) {
    if (b.versioning !== 'Enabled')
      throw new StoreError('InvalidBucketState', "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration");
    b.objectLock = true;
  }
  return b;
}

/** Applies `patch` to `rec` (in place); a retention change is checked against the current one (ObjectLocked). */
export function applyObjectPatch(rec: ObjectRecord, patch: ObjectPatch): ObjectRecord {
  if (patch.meta !== undefined) rec.meta = JSON.parse(JSON.stringify(patch.meta)) as ObjectRecord['meta'];
  if (patch.tags === null) delete rec.tags;
  else if (patch.tags !== undefined) rec.tags = patch.tags.map((t) => ({ key: t.key, value: t.value }));
  if (patch.retention !== undefined) {
    checkRetentionChange(rec.retention, patch.retention, patch.lock);
    if (patch.retention === null) delete rec.retention;
    else rec.retention = { mode: patch.retention.mode, until: patch.retention.until };
  }
  if (patch.legalHold !== undefined) rec.legalHold = patch.legalHold;
  if (patch.acl !== undefined) rec.acl = patch.acl;
  return rec;
}
