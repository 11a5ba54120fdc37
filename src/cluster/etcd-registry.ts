// The gateway registry in etcd: `/strata/gateways/<id>` → JSON GatewayInfo, bound to a lease this
// process keeps alive (etcd-lease.ts). A gateway that dies stops renewing: etcd drops its key after the
// TTL. After an etcd outage long enough for the lease to expire, a new lease is granted and the key put
// again (re-registration). etcd is never on the request path: S3 keeps being served meanwhile.
import type { Etcd3 } from 'etcd3';
import { KeptLease } from './etcd-lease.js';
import type { GatewayInfo, GatewayRegistry } from './registry-types.js';

export const GATEWAYS_PREFIX = '/strata/gateways/';

export class EtcdGatewayRegistry implements GatewayRegistry {
  private lease: KeptLease | undefined;
  private self: GatewayInfo | undefined;
  /** The lease id the key was last put with. */
  private putWith: string | undefined;
  private putting: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: Etcd3,
    private readonly o: { ttlSec?: number; log?: { warn(obj: object, msg: string): void } } = {},
  ) {}

  async register(self: GatewayInfo): Promise<void> {
    if (this.lease) throw new Error('this registry already registered a gateway');
    this.self = self;
    this.lease = new KeptLease(this.client, {
      ttlSec: this.o.ttlSec ?? 5,
      log: this.o.log,
      onState: (valid, id) => {
        if (valid && id !== this.putWith) void this.put(id!);
      },
    });
    await this.heartbeat();
  }

  async heartbeat(): Promise<void> {
    if (!this.lease) throw new Error('register() first');
    await this.lease.renewNow();
    const id = this.lease.id;
    if (id !== undefined && id !== this.putWith) await this.put(id);
    await this.putting;
  }

  async list(): Promise<GatewayInfo[]> {
    const all = await this.client
      .getAll()
      .prefix(GATEWAYS_PREFIX)
      .options({ deadline: Date.now() + 3000 })
      .strings();
    const out: GatewayInfo[] = [];
    for (const [key, value] of Object.entries(all)) {
      try {
        out.push(JSON.parse(value) as GatewayInfo);
      } catch {
        this.o.log?.warn({ key }, 'gateway registry: an entry is not JSON (ignored)');
      }
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await this.putting;
    if (this.self && this.putWith !== undefined)
      await this.client
        .delete()
        .key(GATEWAYS_PREFIX + this.self.id)
        .options({ deadline: Date.now() + 2000 })
        .exec()
        .catch(() => undefined);
    await lease?.close({ revoke: true });
  }

  private put(id: string): Promise<void> {
    this.putting = this.putting.then(async () => {
      if (!this.self || !this.lease || id === this.putWith || !this.lease.valid(id)) return;
      try {
        await this.client
          .put(GATEWAYS_PREFIX + this.self.id)
          .value(JSON.stringify(this.self))
          .lease(id)
          .options({ deadline: Date.now() + 3000 })
          .exec();
        this.putWith = id;
      } catch (err) {
        this.o.log?.warn({ err: String(err) }, 'gateway registry: could not register in etcd (retried with the next renewal)');
      }
    });
    return this.putting;
  }
}
