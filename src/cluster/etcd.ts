// The etcd side of a cluster of gateways (--etcd, docs/cluster.md, "etcd and the job leader"): one etcd3 client per process
// and what it serves — the gateway registry (etcd-registry.ts), the job leader (leader-etcd.ts), change
// notices (etcd-changes.ts) and a health probe for the cluster status. etcd is never on the S3 request
// path: when it is unreachable, requests are served as before, leadership lapses, and all of this
// resumes on its own when etcd is back.
import { Etcd3 } from 'etcd3';
import { EtcdChanges } from './etcd-changes.js';
import { hostGate } from './etcd-hosts.js';
import { EtcdGatewayRegistry } from './etcd-registry.js';
import { EtcdElector, type EtcdElectorOptions, etcdLeader } from './leader-etcd.js';

export interface EtcdHealth {
  /** Whether a member answered a status call within the deadline and knows a raft leader. */
  healthy: boolean;
  endpoints: string[];
  /** Round trip of the status call. */
  latencyMs?: number;
  /** The answering member's etcd version. */
  version?: string;
  /** Whether that member knows a raft leader (no leader: the cluster lost its quorum). */
  hasLeader?: boolean;
  error?: string;
}

export interface EtcdClusterOptions {
  endpoints: string[];
  /** This process's id (registry entry, leader value, change source). */
  id: string;
  /** Lease TTL of membership and leadership, seconds (default 5). */
  ttlSec?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export class EtcdCluster {
  readonly client: Etcd3;
  readonly registry: EtcdGatewayRegistry;
  readonly changes: EtcdChanges;
  private readonly electors = new Set<EtcdElector>();

  constructor(private readonly o: EtcdClusterOptions) {
    this.client = new Etcd3({
      hosts: o.endpoints,
      // The gRPC default would retry a lost member for minutes; keep reconnection attempts frequent.
      grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2000 },
      // A member is set aside only when it cannot be reached, for a second: not for 5 s on any error, as
      // etcd3's default does, which during a raft election would shut out every member (etcd-hosts.ts).
      faultHandling: { host: hostGate() },
    });
    this.registry = new EtcdGatewayRegistry(this.client, { ttlSec: o.ttlSec, log: o.log });
    this.changes = new EtcdChanges(this.client, { source: o.id, log: o.log });
  }

  /** A leader elector for `name` (default 'jobs'), closed with the cluster. */
  elector(opts: Partial<EtcdElectorOptions> = {}): EtcdElector {
    const e = new EtcdElector(this.client, { owner: this.o.id, ttlSec: this.o.ttlSec, log: this.o.log, ...opts });
    this.electors.add(e);
    return e;
  }

  /** The owner id of the leader of election `name` (default 'jobs'), without campaigning; undefined: none or unreachable. */
  leader(name?: string): Promise<string | undefined> {
    return etcdLeader(this.client, name);
  }

  /** Tells every gateway that `what` changed (see etcd-changes.ts). */
  publishChange(what: string): Promise<void> {
    return this.changes.publishChange(what);
  }

  /** Calls `fn(what)` on every change published by any gateway. */
  onChange(fn: (what: string) => void): () => void {
    return this.changes.onChange(fn);
  }

  /** One status call with a short deadline: for `strata admin cluster status`. Never rejects. */
  async health(timeoutMs = 2000): Promise<EtcdHealth> {
    const started = performance.now();
    try {
      const s = await this.client.maintenance.status({ deadline: Date.now() + timeoutMs });
      // A member that knows no raft leader answers, but the cluster cannot write: not healthy.
      return {
        healthy: s.leader !== '0',
        endpoints: this.o.endpoints,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
        version: s.version,
        hasLeader: s.leader !== '0',
      };
    } catch (err) {
      return { healthy: false, endpoints: this.o.endpoints, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** Resigns, deregisters, stops the watch and closes the client. */
  async close(): Promise<void> {
    await Promise.all([...this.electors].map((e) => e.close()));
    await this.registry.close().catch(() => undefined);
    await this.changes.close();
    this.client.close();
  }
}
