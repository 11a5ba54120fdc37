// The gateway registry in PostgreSQL (registry.ts; docs/cluster.md): a row per gateway process in
// strata_gateways (migration 0006-gateways in store/meta/postgres/migrations.ts), its last_seen moved by each heartbeat. Times are the
// database's (now()), so gateways on machines whose clocks differ still compare. Rows of gateways
// gone for PRUNE_AFTER are removed by any heartbeat. Also the PostgreSQL health the cluster status
// shows (reachable, round trip, server version, migration level).
import type { PgDb } from '../store/meta/postgres/db.js';
import { type GatewayEntry, type GatewayRegistry, type GatewaySelf, LIVE_WINDOW_MS } from './registry.js';

/** A gateway unseen this long is forgotten (its row deleted). */
const PRUNE_AFTER = '1 hour';

interface Row {
  id: string;
  address: string;
  hostname: string;
  pid: number;
  started_ms: string;
  seen_ms: string;
  now_ms: string;
}

export class PgGatewayRegistry implements GatewayRegistry {
  readonly kind = 'postgres';
  private self: GatewaySelf | undefined;

  constructor(private readonly db: PgDb) {}

  async register(self: GatewaySelf): Promise<void> {
    this.self = self;
    await this.db.query(
      `INSERT INTO strata_gateways (id, address, hostname, pid, started_at, last_seen) VALUES ($1, $2, $3, $4, now(), now())
       ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, last_seen = now()`,
      [self.id, self.address, self.hostname, self.pid],
    );
  }

  async heartbeat(): Promise<void> {
    const self = this.self;
    if (!self) throw new Error('heartbeat before register');
    const moved = await this.db.query('UPDATE strata_gateways SET last_seen = now() WHERE id = $1 RETURNING id', [self.id]);
    if (moved.length === 0) await this.register(self);
    await this.db.query(`DELETE FROM strata_gateways WHERE last_seen < now() - interval '${PRUNE_AFTER}'`);
  }

  async list(): Promise<GatewayEntry[]> {
    const rows = await this.db.query<Row>(
      `SELECT id, address, hostname, pid,
              (extract(epoch FROM started_at) * 1000)::bigint AS started_ms,
              (extract(epoch FROM last_seen) * 1000)::bigint AS seen_ms,
              (extract(epoch FROM now()) * 1000)::bigint AS now_ms
         FROM strata_gateways ORDER BY started_at, id`,
    );
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      hostname: r.hostname,
      pid: r.pid,
      startedAt: Number(r.started_ms),
      lastSeen: Number(r.seen_ms),
      live: Number(r.now_ms) - Number(r.seen_ms) <= LIVE_WINDOW_MS,
    }));
  }

  async close(): Promise<void> {
    const self = this.self;
    this.self = undefined;
    if (self) await this.db.query('DELETE FROM strata_gateways WHERE id = $1', [self.id]).catch(() => undefined);
  }
}

/** PostgreSQL as the cluster status shows it. */
export interface PgHealth {
  reachable: boolean;
  /** Round trip of one small statement (ms), when reachable. */
  roundTripMs?: number;
  /** server_version, e.g. "15.14 (Debian 15.14-0+deb12u1)". */
  serverVersion?: string;
  /** The last migration applied (strata_migrations), e.g. "0006-gateways". */
  migrationLevel?: string;
  /** Why it is not reachable. */
  error?: string;
}

/** Asks PostgreSQL for its version and the migration level, timing the round trip. Never throws. */
export async function pgHealth(db: PgDb): Promise<PgHealth> {
  const started = process.hrtime.bigint();
  try {
    const [row] = await db.query<{ version: string; level: string | null }>(
      "SELECT current_setting('server_version') AS version, (SELECT max(id) FROM strata_migrations) AS level",
    );
    const roundTripMs = Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100;
    return { reachable: true, roundTripMs, serverVersion: row?.version ?? '', ...(row?.level && { migrationLevel: row.level }) };
  } catch (err) {
    return { reachable: false, error: err instanceof Error ? err.message : String(err) };
  }
}
