// The cluster status (GET /_strata/admin/v1/cluster/status, `strata admin cluster status`;
// docs/cluster.md and docs/admin-api.md): the gateways of the registry, the job leader (the holder
// of the jobs lease, a gateway id), the metadata database's health, and etcd's. Each part is asked
// separately and bounded: with PostgreSQL down the answer still comes, saying so.
import type { GatewayRegistry } from './registry.js';
import type { PgHealth } from './registry-pg.js';

export interface ClusterStatusSources {
  /** The registry (absent: no cluster). */
  registry: GatewayRegistry;
  /** This process's gateway id (marked `self` in the list). */
  selfId: string;
  /** The holder of the jobs lease (the job leader), or undefined when none holds it. */
  leader: () => Promise<string | undefined>;
  /** How the leader is chosen: 'postgres-lease' (the jobs lease row) or the etcd slice's elector. */
  leaderBy: string;
  postgres: () => Promise<PgHealth>;
  /** etcd's health when --etcd is given; absent: "not configured". */
  etcd?: () => Promise<Record<string, unknown>>;
}

const iso = (ms: number) => new Date(ms).toISOString();
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function clusterStatus(s: ClusterStatusSources): Promise<Record<string, unknown>> {
  const [gateways, leader, postgres, etcd] = await Promise.all([
    s.registry.list().then(
      (list) => ({ list }),
      (err: unknown) => ({ error: message(err) }),
    ),
    s.leader().then(
      (id) => ({ id }),
      (err: unknown) => ({ error: message(err) }),
    ),
    s.postgres(),
    s.etcd ? s.etcd().catch((err: unknown) => ({ reachable: false, error: message(err) })) : Promise.resolve({ configured: false, status: 'not configured' }),
  ]);
  const list = 'list' in gateways ? gateways.list : [];
  const leaderEntry = 'id' in leader && leader.id !== undefined ? list.find((g) => g.id === leader.id) : undefined;
  return {
    registry: s.registry.kind,
    gateways: list.map((g) => ({
      id: g.id,
      address: g.address,
      hostname: g.hostname,
      pid: g.pid,
      started: iso(g.startedAt),
      lastSeen: iso(g.lastSeen),
      live: g.live,
      self: g.id === s.selfId,
      leader: g.id === leaderEntry?.id,
    })),
    ...('error' in gateways && { gatewaysError: gateways.error }),
    leader:
      'error' in leader ? { id: null, by: s.leaderBy, error: leader.error } : { id: leader.id ?? null, by: s.leaderBy, address: leaderEntry?.address ?? null },
    postgres,
    etcd,
  };
}
