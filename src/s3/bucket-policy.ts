// Bucket policies: the stored document, compiled for authorize() (cached by its text), whether it is
// public in AWS's sense, and Block Public Access applied to it. Put/Get/DeleteBucketPolicy,
// GetBucketPolicyStatus and the PublicAccessBlock operations build on it.
import type { CompiledPolicy, CompiledStatement, RequestPrincipal } from '../iam/policy.js';
import { PrincipalMatcher, STRATA_ACCOUNT_ID, parsePolicy } from '../iam/policy.js';
import type { BucketRecord } from '../store/types.js';
import type { BucketAccessConfigs } from './bucket-access.js';
import { publicAccessBlockOf } from './bucket-access.js';
import { S3Error } from './errors.js';

/** What policies see of an unsigned request (the anonymous principal has no ARN, no account). */
const ANONYMOUS_CALLER: RequestPrincipal = Object.freeze({ kind: 'anonymous', account: '', arn: '', userId: 'anonymous' });

/**
 * Condition keys that make a statement non-public when a positive operator pins them to fixed
 * values (no wildcard, no policy variable): AWS's list in "The meaning of public" (S3 User Guide).
 * aws:SourceIp pins with CIDR blocks no wider than MIN_IPV4_PREFIX / MIN_IPV6_PREFIX.
 */
const FIXING_KEYS = new Set([
  'aws:sourceip',
  'aws:sourcearn',
  'aws:sourcevpc',
  'aws:sourcevpce',
  'aws:sourceowner',
  'aws:sourceaccount',
  'aws:userid',
  's3:x-amz-server-side-encryption-aws-kms-key-id',
]);

/** A CIDR block wider than these (0.0.0.0/0, ::/0…) lets "everyone" in: Strata's bound for "fixed". */
const MIN_IPV4_PREFIX = 8;
const MIN_IPV6_PREFIX = 32;

/** Does one of the statement's conditions pin it to fixed values of a FIXING_KEYS key? */
function pinned(st: CompiledStatement): boolean {
  return st.conditions.some((c) => {
    // A negated operator, …IfExists or ForAllValues holds for a request without the key: no pin.
    if (c.info.negated || c.ifExists || c.set === 'all' || c.info.family === 'null') return false;
    if (!FIXING_KEYS.has(c.contextKey)) return false;
    return c.values.every((v) => {
      switch (v.kind) {
        case 'cidr':
          // bits count in the 16-byte space: an IPv4 block /n is 96 + n.
          return v.cidr.bytes[10] === 0xff && v.cidr.bytes[11] === 0xff && v.cidr.bytes.slice(0, 10).every((b) => b === 0)
            ? v.cidr.bits >= 96 + MIN_IPV4_PREFIX
            : v.cidr.bits >= MIN_IPV6_PREFIX;
        case 'text': {
          const literal = v.template.literal;
          if (literal === undefined) return false; // a policy variable
          return c.info.test !== 'like' || !(literal.includes('*') || literal.includes('?'));
        }
        default:
          return true;
      }
    });
  });
}

/**
 * Is the policy public (AWS's "The meaning of public")? Yes when a statement allows a principal
 * that includes everyone — `"*"`, `{"AWS": "*"}`, `{"CanonicalUser": "*"}`, or a NotPrincipal — and
 * none of its conditions pins it to fixed values of aws:SourceIp, aws:SourceArn, aws:SourceVpc(e),
 * aws:SourceOwner, aws:SourceAccount, aws:userid or the KMS key id. Deny statements never make a
 * policy public.
 */
export function isPublicPolicy(policy: CompiledPolicy): boolean {
  return policy.statements.some((st) => st.effect === 'Allow' && st.principals?.matches(ANONYMOUS_CALLER) === true && !pinned(st));
}

/** A statement's principals without the anonymous caller (RestrictPublicBuckets). */
class AccountPrincipals extends PrincipalMatcher {
  constructor(private readonly inner: PrincipalMatcher) {
    super(false, new Set(), new Set(), false);
  }

  override matches(p: RequestPrincipal): boolean {
    return p.kind !== 'anonymous' && this.inner.matches(p);
  }
}

/**
 * The policy as RestrictPublicBuckets applies it to a public policy: its Allow statements grant
 * nothing to anonymous callers (AWS: only the bucket owner's account keeps access; every Strata user
 * is in that account). Deny statements still apply to everyone.
 */
function restricted(policy: CompiledPolicy): CompiledPolicy {
  const statements = policy.statements.map((st) =>
    st.effect === 'Allow' && st.principals !== undefined && st.principals.matches(ANONYMOUS_CALLER)
      ? { ...st, principals: new AccountPrincipals(st.principals) }
      : st,
  );
  return Object.freeze({ ...policy, statements });
}

export interface Compiled {
  readonly policy: CompiledPolicy;
  readonly public: boolean;
  restricted?: CompiledPolicy;
}

/** Compiled stored policies by document text: most recently used last, at most CACHE_SIZE. */
const CACHE_SIZE = 512;
const cache = new Map<string, Compiled>();

/** The compiled form of a stored policy (validated when it was put); undefined if it no longer compiles. */
export function compiledBucketPolicy(text: string): Compiled | undefined {
  const hit = cache.get(text);
  if (hit !== undefined) {
    // Refresh its place: the oldest entry is the one evicted.
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const parsed = parsePolicy(text, { kind: 'resource' });
  if (!parsed.ok) return undefined;
  const entry: Compiled = { policy: parsed.policy, public: isPublicPolicy(parsed.policy) };
  cache.set(text, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return entry;
}

/** For tests: how many compiled policies the cache holds. */
export const compiledPolicyCacheSize = (): number => cache.size;

/** The bucket's policy as authorize() applies it (undefined: none, or ignored by Block Public Access). */
export function bucketPolicyAccess(_bucket: BucketRecord, configs: BucketAccessConfigs): CompiledPolicy | undefined {
  if (configs.policy === undefined) return undefined;
  const entry = compiledBucketPolicy(configs.policy);
  if (entry === undefined) return undefined;
  if (!entry.public || !publicAccessBlockOf(configs).RestrictPublicBuckets) return entry.policy;
  entry.restricted ??= restricted(entry.policy);
  return entry.restricted;
}

/** The names of this server's users a (valid) policy document names as principals (`…:user/NAME`). */
export function principalUserNames(text: string): string[] {
  const prefix = `arn:aws:iam::${STRATA_ACCOUNT_ID}:user/`;
  const doc = JSON.parse(text) as { Statement: unknown };
  const names = new Set<string>();
  for (const st of [doc.Statement].flat() as Array<Record<string, unknown>>) {
    const principal = st['Principal'] ?? st['NotPrincipal'];
    if (principal === null || typeof principal !== 'object') continue;
    for (const arn of [(principal as Record<string, unknown>)['AWS'] ?? []].flat()) {
      if (typeof arn === 'string' && arn.startsWith(prefix)) names.add(arn.slice(prefix.length));
    }
  }
  return [...names];
}

/**
 * Validates a policy for PutBucketPolicy on `bucket`: MalformedPolicy with AWS's reason (also
 * "Invalid principal in policy" for a user of this server that does not exist: `userExists`), or
 * (when the bucket's BlockPublicPolicy is on) AccessDenied for a public one. Returns the compiled policy.
 */
export function validateBucketPolicy(
  text: string,
  bucket: string,
  configs: BucketAccessConfigs,
  userExists: (name: string) => boolean = () => true,
): CompiledPolicy {
  if (text.trim() === '') throw new S3Error('MalformedPolicy'); // the default message: "Policies must be valid JSON…"
  const parsed = parsePolicy(text, { kind: 'resource', bucket, name: 'bucket policy' });
  if (!parsed.ok) throw new S3Error('MalformedPolicy', parsed.error.reason);
  if (!principalUserNames(text).every(userExists)) throw new S3Error('MalformedPolicy', 'Invalid principal in policy');
  if (publicAccessBlockOf(configs).BlockPublicPolicy && isPublicPolicy(parsed.policy)) throw new S3Error('AccessDenied');
  return parsed.policy;
}
