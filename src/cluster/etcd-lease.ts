// An etcd lease kept alive by this process, with a validity it can trust without asking etcd.
//
// etcd3's own keep-alive declares a lease lost only after twice its TTL without an answer: too late for
// a leader, which must stop before etcd lets another take its key. So this keeper renews the lease
// itself (a keep-alive every fifth of the TTL, each call with a deadline; after a failed call, again
// within a quarter second) and counts the lease valid until `sent + TTL − margin`, where `sent` is when
// the last successful grant or keep-alive was sent: etcd measures the lease from when it received that
// call (later), and a new etcd leader extends every lease by a whole TTL, so the lease never ends on
// the server before it ends here.
//
// Why a fifth and the quick retry: when etcd's raft leader dies, no keep-alive is answered until the
// other members have elected a new one (1–2 s with etcd's default 1 s election timeout). Renewed every
// fifth, the lease still has ≥ 3.5 s of its 5 s here when that starts, and the first retry after the
// election renews it: the leader keeps its role straight through (docs/cluster.md).
import type { Etcd3, Lease } from 'etcd3';
import { EtcdLeaseInvalidError } from 'etcd3';

export interface KeptLeaseOptions {
  /** Lease TTL in seconds (whole, ≥ 1). */
  ttlSec: number;
  /** Deadline of each grant or keep-alive call (default: a third of the TTL, at least 500 ms). */
  rpcTimeoutMs?: number;
  /** Time between renewals while they succeed (default: a fifth of the TTL). */
  renewEveryMs?: number;
  /** Time before the next attempt after a failed one (default: 250 ms, at most renewEveryMs). */
  retryMs?: number;
  /** Told each time the lease becomes valid (a new grant or a renewal after a gap) or stops being valid. */
  onState?: (valid: boolean, id: string | undefined) => void;
  log?: { warn(obj: object, msg: string): void };
}

const sleepOrWake = (ms: number, wake: { fn?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake.fn = () => {
      clearTimeout(t);
      resolve();
    };
  });

/** Runs `p` with a timeout (the gRPC deadline should end it first; this is the belt to its braces). */
async function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd call timed out after ${ms} ms`)), ms + 250);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export class KeptLease {
  private lease: Lease | undefined;
  private leaseId: string | undefined;
  private validUntil = 0;
  private reported = false;
  private closed = false;
  private expiry: NodeJS.Timeout | undefined;
  private readonly wake: { fn?: () => void } = {};
  private readonly loop: Promise<void>;
  readonly ttlMs: number;
  private readonly marginMs: number;
  private readonly rpcMs: number;
  private readonly everyMs: number;
  private readonly retryMs: number;
  /** Whether the last grant or keep-alive was answered (the next one then waits everyMs, else retryMs). */
  private lastOk = false;
  /** Failed calls since the last answered one (logged at the first and every 20th). */
  private failed = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly o: KeptLeaseOptions,
  ) {
    if (!Number.isInteger(o.ttlSec) || o.ttlSec < 1) throw new RangeError(`lease TTL must be a whole number of seconds ≥ 1, got ${o.ttlSec}`);
    this.ttlMs = o.ttlSec * 1000;
    this.marginMs = Math.max(300, this.ttlMs / 10);
    this.rpcMs = o.rpcTimeoutMs ?? Math.max(500, Math.floor(this.ttlMs / 3));
    this.everyMs = o.renewEveryMs ?? Math.floor(this.ttlMs / 5);
    this.retryMs = Math.min(o.retryMs ?? 250, this.everyMs);
    this.loop = this.run();
  }

  /** The lease id while the lease is valid (by this process's own count), else undefined. */
  get id(): string | undefined {
    return this.valid() ? this.leaseId : undefined;
  }

  /** Whether the lease `id` (default: the current one) is valid now. Synchronous: no call to etcd. */
  valid(id?: string): boolean {
    return this.leaseId !== undefined && (id === undefined || id === this.leaseId) && Date.now() < this.validUntil;
  }

  /** Renews now (a keep-alive, or a grant when there is no lease) instead of at the next third of the TTL. */
  async renewNow(): Promise<boolean> {
    await this.step();
    return this.valid();
  }

  /**
   * Stops renewing. `revoke`: also revokes the lease in etcd (its keys go at once); otherwise the lease
   * ends on its own after its TTL (a process that vanishes without a word).
   */
  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake.fn?.();
    clearTimeout(this.expiry);
    const lease = this.lease;
    this.drop();
    await this.loop;
    if (opts.revoke && lease) await within(lease.revoke({ deadline: Date.now() + this.rpcMs }), this.rpcMs).catch(() => undefined);
    else lease?.release();
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      await this.step();
      if (this.closed) return;
      await sleepOrWake(this.lastOk && this.valid() ? this.everyMs : this.retryMs, this.wake);
    }
  }

  private stepping: Promise<void> | undefined;

  private step(): Promise<void> {
    this.stepping ??= this.renew().finally(() => {
      this.stepping = undefined;
    });
    return this.stepping;
  }

  private async renew(): Promise<void> {
    if (this.closed) return;
    const sent = Date.now();
    const deadline = sent + this.rpcMs;
    try {
      if (!this.lease) {
        const lease = this.client.lease(this.o.ttlSec, { autoKeepAlive: false, deadline });
        lease.on('lost', () => undefined); // reported through grant()'s rejection
        const id = await within(lease.grant(), this.rpcMs);
        if (this.closed) {
          await lease.revoke().catch(() => undefined);
          return;
        }
        this.lease = lease;
        this.leaseId = id;
        this.lastOk = true;
        this.failed = 0;
        this.extend(sent + this.ttlMs - this.marginMs);
      } else {
        const lease = this.lease;
        const res = await within(lease.keepaliveOnce({ deadline }), this.rpcMs);
        if (this.closed || lease !== this.lease) return;
        this.lastOk = true;
        this.failed = 0;
        this.extend(sent + Number(res.TTL) * 1000 - this.marginMs);
      }
    } catch (err) {
      this.lastOk = false;
      this.failed++;
      if (this.closed) return;
      if (err instanceof EtcdLeaseInvalidError) {
        // etcd says the lease is gone (expired while we could not reach it): start over with a new one.
        this.o.log?.warn({ err: String(err) }, 'etcd lease expired: taking a new one');
        this.drop();
      } else if (this.failed % 20 === 1) {
        this.o.log?.warn({ err: String(err), failed: this.failed }, 'etcd lease: could not renew (retrying)');
      }
    }
  }

  private extend(until: number): void {
    this.validUntil = until;
    clearTimeout(this.expiry);
    this.expiry = setTimeout(() => this.report(), Math.max(0, until - Date.now()) + 1);
    this.report();
  }

  private drop(): void {
    this.lease?.release();
    this.lease = undefined;
    this.leaseId = undefined;
    this.validUntil = 0;
    clearTimeout(this.expiry);
    this.report();
  }

  /** Tells onState of a change of validity (once per change). */
  private report(): void {
    const now = this.valid();
    if (now !== this.reported || (now && this.reportedId !== this.leaseId)) {
      this.reported = now;
      this.reportedId = this.leaseId;
      this.o.onState?.(now, now ? this.leaseId : undefined);
    }
  }
  private reportedId: string | undefined;
}
