// The managed policies every Strata server has, named as MinIO names them so its users' habits carry over:
// readonly, readwrite, writeonly, diagnostics, consoleAdmin. Documents here; compiled once on first use.
import type { CompiledPolicy } from './policy.js';
import { compilePolicy } from './policy.js';

const ALL_BUCKETS = 'arn:aws:s3:::*';

/** The documents, as `strata admin policy info NAME` will print them. */
export const CANNED_POLICY_DOCUMENTS: Readonly<Record<string, object>> = Object.freeze({
  /** Read any object and learn a bucket's region: MinIO's `readonly`. Listing is not included (as MinIO). */
  readonly: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:GetObject'], Resource: [ALL_BUCKETS] }],
  },
  /** Every S3 action on every bucket and object (not the admin API). */
  readwrite: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:*'], Resource: [ALL_BUCKETS] }],
  },
  /** Upload objects only: no read, no list, no delete. */
  writeonly: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['s3:PutObject'], Resource: [ALL_BUCKETS] }],
  },
  /**
   * Admin API read-only diagnostics, no data access: server information, profiling, trace, console log,
   * health information, top locks, bandwidth, metrics (MinIO's action names; the admin API defines which
   * of them exist in Strata).
   */
  diagnostics: {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'admin:ServerInfo',
          'admin:Profiling',
          'admin:ServerTrace',
          'admin:ConsoleLog',
          'admin:OBDInfo',
          'admin:TopLocksInfo',
          'admin:BandwidthMonitor',
          'admin:Prometheus',
        ],
        Resource: [ALL_BUCKETS],
      },
    ],
  },
  /** Everything: every admin action and every S3 action (MinIO's console administrator). */
  consoleAdmin: {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: ['admin:*'], Resource: [ALL_BUCKETS] },
      // Every master key of the key service (their ARNs are arn:aws:kms:…:key/ID, not buckets).
      { Effect: 'Allow', Action: ['kms:*'], Resource: ['*'] },
      { Effect: 'Allow', Action: ['s3:*'], Resource: [ALL_BUCKETS] },
    ],
  },
});

export const CANNED_POLICY_NAMES: readonly string[] = Object.keys(CANNED_POLICY_DOCUMENTS);

let compiled: Map<string, CompiledPolicy> | undefined;

/** The compiled canned policy of that name, or undefined. */
export function cannedPolicy(name: string): CompiledPolicy | undefined {
  compiled ??= new Map(Object.entries(CANNED_POLICY_DOCUMENTS).map(([n, doc]) => [n, compilePolicy(doc, { kind: 'identity', name: n })]));
  return compiled.get(name);
}

/**
 * Stores each canned policy by its name unless a policy of that name exists (an operator's own
 * document of that name is kept). Run at every start; idempotent. A removed canned policy comes back
 * at the next start.
 */
export async function seedCannedPolicies(
  identities: { getPolicy(name: string): unknown; putPolicy(name: string, document: string, now: number): void | Promise<void> },
  now: number,
): Promise<void> {
  for (const [name, doc] of Object.entries(CANNED_POLICY_DOCUMENTS)) {
    if (identities.getPolicy(name) === undefined) await identities.putPolicy(name, JSON.stringify(doc), now);
  }
}
