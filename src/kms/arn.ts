// Master keys as policies and clients name them: `arn:aws:kms:<region>:<account>:key/<id>`, the
// resource of the kms: actions (the admin API's kms:DescribeKey…, SSE-KMS's kms:GenerateDataKey and
// kms:Decrypt). A client may name a key by its id or by that ARN (x-amz-server-side-encryption-aws-kms-key-id).
import { KMS_KEY_ID } from '../config.js';
import { STRATA_ACCOUNT_ID } from '../iam/policy.js';

/** The ARN of master key `keyId` on a server answering for `region`. */
export function kmsKeyArn(keyId: string, region: string): string {
  return `arn:aws:kms:${region}:${STRATA_ACCOUNT_ID}:key/${keyId}`;
}

/** Is `keyId` a well-formed master key id (1-64 of A-Z a-z 0-9 _ . -, starting with a letter or digit)? */
export function isKeyId(keyId: string): boolean {
  return KMS_KEY_ID.test(keyId);
}

/**
 * The key id a client's reference names: the id itself, or a key ARN of this account (any region:
 * the server has one key service); undefined when it is neither (an alias, another account's ARN).
 */
export function keyIdOf(ref: string): string | undefined {
  const arn = /^arn:aws:kms:[a-z0-9-]*:(\d{12}):key\/(.+)$/.exec(ref);
  if (arn) return arn[1] === STRATA_ACCOUNT_ID && isKeyId(arn[2]!) ? arn[2] : undefined;
  return isKeyId(ref) ? ref : undefined;
}
