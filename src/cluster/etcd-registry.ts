// The gateway registry in etcd: `/strata/gateways/<id>` → JSON { id, address, hostname, pid, startedAt },
// bound to a lease this process keeps alive (etcd-lease.ts: renewed every third of the TTL on its own,
// and by each heartbeat()). A gateway that dies stops renewing: etcd drops its key after the TTL, so
// every listed entry is live; its `lastSeen` is the time of the listing (etcd heard from it within the
// TTL). After an etcd outage long enough for the lease to expire, a new lease is granted and the key
// put again (re-registration). etcd is never on the request path: S3 is served meanwhile.
import type { Etcd3 } from 'etcd3';
import { KeptLease } from './etcd-lease.js';
import type { GatewayEntry, GatewayRegistry, GatewaySelf } from './registry.js';

export const GATEWAYS_PREFIX = '/strata/gateways/';

export class EtcdGatewayRegistry implements GatewayRegistry {
  readonly kind = 'etcd';
  private lease: KeptLease | undefined;
  private entry: (GatewaySelf & { startedAt: number }) | undefined;
  /** The lease id the key was last put with. */
  private putWith: string | undefined;
  private putting: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Etcd3,
    private readonly o: { ttlSec?: number; log?: { warn(obj: object, msg: string): void } } = {},
  ) {}

  async register(self: GatewaySelf): Promise<void> {
    this.entry ??= { ...self, startedAt: Date.now() };
    this.lease ??= new KeptLease(this.client, {
      ttlSec: this.o.ttlSec ?? 5,
      log: this.o.log,
      onState: (valid, id) => {
        if (valid && id !== this.putWith) void this.put(id!).catch(() => undefined);
      },
    });
    await this.heartbeat();
  }

  /** Renews the lease now and makes sure the key is there; rejects while etcd cannot be reached. */
  async heartbeat(): Promise<void> {
    if (!this.lease) throw new Error('register() first');
    await this.lease.renewNow();
    const id = this.lease.id;
    if (id === undefined) throw new Error('etcd unreachable: the registration lease is not renewed');
    if (id !== this.putWith) await this.put(id);
  }

  async list(): Promise<GatewayEntry[]> {
    const all = await this.client
      .getAll()
      .prefix(GATEWAYS_PREFIX)
      .options({ deadline: Date.now() + 3000 })
      .strings();
    const now = Date.now();
    const out: GatewayEntry[] = [];
    for (const [key, value] of Object.entries(all)) {
      try {
        const e = JSON.parse(value) as GatewaySelf & { startedAt: number };
        out.push({ id: e.id, address: e.address, hostname: e.hostname, pid: e.pid, startedAt: e.startedAt, lastSeen: now, live: true });
      } catch {
        this.o.log?.warn({ key }, 'gateway registry: an entry is not JSON (ignored)');
      }
    }
    return out.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await this.putting.catch(() => undefined);
    if (this.entry && this.putWith !== undefined)
      await this.client
        .delete()
        .key(GATEWAYS_PREFIX + this.entry.id)
        .options({ deadline: Date.now() + 2000 })
        .exec()
        .catch(() => undefined);
    this.putWith = undefined;
    await lease?.close({ revoke: true });
  }

  /** Puts the entry bound to lease `id` (one put at a time); rejects when etcd refuses or cannot be reached. */
  private put(id: string): Promise<void> {
    const next = this.putting
      .catch(() => undefined)
      .then(async () => {
        const { entry, lease } = this;
        if (!entry || !lease || id === this.putWith || !lease.valid(id)) return;
        await this.client
          .put(GATEWAYS_PREFIX + entry.id)
          .value(JSON.stringify(entry))
          .lease(id)
          .options({ deadline: Date.now() + 3000 })
          .exec();
        this.putWith = id;
      });
    this.putting = next;
    return next;
  }
}
