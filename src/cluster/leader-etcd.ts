// The etcd leader elector: the leader is the process whose lease holds the key `/strata/leader/<name>`.
// Each round (every `pollMs`) a candidate with a valid lease runs one transaction: "if the key does
// not exist, create it bound to my lease, else read it". It leads when the key is bound to its lease.
// The key can only pass to another process once that lease has ended in etcd, and this process
// counts its lease out locally before etcd does (etcd-lease.ts): isLeader() turns false first.
import type { Etcd3 } from 'etcd3';
import { KeptLease } from './etcd-lease.js';
import { type LeaderElector, LeaderState } from './leader.js';

export interface EtcdElectorOptions {
  /** This process's id (the key's value while it leads). */
  owner: string;
  /** Election name: the key is `/strata/leader/<name>` (default 'jobs'). */
  name?: string;
  /** Lease TTL in seconds (default 5): how long a vanished leader keeps the role. */
  ttlSec?: number;
  /** Time between rounds of a candidate (default 500 ms). */
  pollMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export const LEADER_PREFIX = '/strata/leader/';

/** The owner id of the leader of election `name` as etcd has it now (undefined: none, or etcd unreachable). */
export async function etcdLeader(client: Etcd3, name = 'jobs'): Promise<string | undefined> {
  try {
    return (
      (await client
        .get(LEADER_PREFIX + name)
        .options({ deadline: Date.now() + 2000 })
        .string()) ?? undefined
    );
  } catch {
    return undefined;
  }
}

export class EtcdElector implements LeaderElector {
  private readonly key: string;
  private readonly lease: KeptLease;
  private readonly state: LeaderState;
  private readonly pollMs: number;
  /** The lease id under which this process won; leadership holds while that lease is valid. */
  private wonWith: string | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Etcd3,
    private readonly o: EtcdElectorOptions,
  ) {
    this.key = LEADER_PREFIX + (o.name ?? 'jobs');
    this.pollMs = o.pollMs ?? 500;
    this.state = new LeaderState(o.log);
    this.lease = new KeptLease(client, {
      ttlSec: o.ttlSec ?? 5,
      log: o.log,
      onState: (valid) => {
        if (!valid) this.refresh('lease not renewed in time');
        else this.kick();
      },
    });
    this.kick();
  }

  isLeader(): boolean {
    return this.wonWith !== undefined && this.lease.valid(this.wonWith);
  }

  onChange(fn: (leader: boolean) => void): () => void {
    return this.state.onChange(fn);
  }

  leader(): Promise<string | undefined> {
    return etcdLeader(this.client, this.o.name);
  }

  async close(opts: { resign?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const leaseId = this.wonWith;
    this.wonWith = undefined;
    this.refresh('closed');
    await this.round;
    const resign = opts.resign !== false;
    if (resign && leaseId !== undefined) {
      // Delete the key only while it is still ours; revoking the lease below would remove it anyway.
      await this.client
        .if(this.key, 'Lease', '==', leaseId)
        .then(this.client.delete().key(this.key))
        .options({ deadline: Date.now() + 2000 })
        .commit()
        .catch(() => undefined);
    }
    await this.lease.close({ revoke: resign });
  }

  /** Reports isLeader() to the listeners when it changed. */
  private refresh(why: string): void {
    const now = this.isLeader();
    if (!now) this.wonWith = undefined;
    this.state.set(now, this.o.owner, why);
  }

  /** Runs a round now (after the current one) and schedules the next. */
  private kick(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.round = this.round
      .then(() => this.campaign())
      .then(() => {
        if (this.closed) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), this.pollMs);
      });
  }

  private async campaign(): Promise<void> {
    if (this.closed) return;
    const id = this.lease.id;
    if (id === undefined) return this.refresh('no valid lease');
    try {
      const res = await this.client
        .if(this.key, 'Create', '==', 0)
        .then(this.client.put(this.key).value(this.o.owner).lease(id))
        .else(this.client.get(this.key))
        .options({ deadline: Date.now() + Math.max(500, this.pollMs) })
        .commit();
      if (this.closed) return;
      let ours = res.succeeded;
      if (!ours) {
        const kv = res.responses[0]?.response_range?.kvs[0];
        ours = kv !== undefined && String(kv.lease) === String(id);
      }
      this.wonWith = ours ? id : undefined;
      this.refresh(ours ? `holds ${this.key}` : `another process holds ${this.key}`);
    } catch (err) {
      // etcd unreachable: keep what we have; the lease's own count ends leadership in time.
      this.o.log?.warn({ err: String(err) }, 'job leader: etcd round failed');
      this.refresh('etcd round failed');
    }
  }
}
