// The PostgreSQL Coordination (../../coord.ts), twin of sqlite-coord.ts: leases, write intents,
// pending frees and read pins as rows (migration 0002-coord), shared by every gateway on the
// database. Every call is one statement or one short READ COMMITTED transaction whose atomicity
// comes from the statement itself: a lease is taken by one INSERT … ON CONFLICT DO UPDATE … WHERE
// (the row lock makes two takers of a free lease see each other: exactly one wins); pending frees
// are taken with SELECT … FOR UPDATE SKIP LOCKED and removed with DELETE … RETURNING, so a free
// taken by one process is never handed to another. No reads are synchronous: no snapshot here.
import type { Coordination } from '../../coord.js';
import { UNREFERENCED_SQL } from './core-sql.js';
import type { Migration, PgDb } from './db.js';

export const COORD_MIGRATION: Migration = {
  id: '0002-coord',
  up: `
CREATE TABLE leases (
  name       text COLLATE "C" PRIMARY KEY,
  owner      text NOT NULL,
  expires_at bigint NOT NULL
);
CREATE TABLE write_intents (
  id         text COLLATE "C" PRIMARY KEY,
  owner      text NOT NULL,
  started_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX write_intents_expiry ON write_intents(expires_at);
CREATE TABLE pending_frees (
  data_id  text COLLATE "C" PRIMARY KEY,
  freed_at bigint NOT NULL
);
CREATE INDEX pending_frees_due ON pending_frees(freed_at);
CREATE TABLE read_pins (
  pin_id     text COLLATE "C" NOT NULL,
  data_id    text COLLATE "C" NOT NULL,
  expires_at bigint NOT NULL,
  PRIMARY KEY (pin_id, data_id)
);
CREATE INDEX read_pins_data ON read_pins(data_id, expires_at);
CREATE INDEX read_pins_expiry ON read_pins(expires_at);
`,
};

export class PgCoordination implements Coordination {
  constructor(private readonly db: PgDb) {}

  async tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `INSERT INTO leases(name, owner, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at <= $4
       RETURNING owner`,
      [name, owner, now + ttlMs, now],
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.query('DELETE FROM leases WHERE name = $1 AND owner = $2', [name, owner]);
  }

  async leaseHolder(name: string, now: number): Promise<string | undefined> {
    const rows = await this.db.query<{ owner: string }>('SELECT owner FROM leases WHERE name = $1 AND expires_at > $2', [name, now]);
    return rows[0]?.owner;
  }

  async clearProcesses(): Promise<void> {
    await this.db.tx(
      async (c) => {
        await c.query('DELETE FROM leases');
        await c.query('DELETE FROM write_intents');
        await c.query('DELETE FROM read_pins');
      },
      { isolation: 'read committed' },
    );
  }

  async addIntent(id: string, owner: string, now: number, ttlMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO write_intents(id, owner, started_at, expires_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, started_at = excluded.started_at, expires_at = excluded.expires_at`,
      [id, owner, now, now + ttlMs],
    );
  }

  async renewIntents(ids: string[], now: number, ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('UPDATE write_intents SET expires_at = $1 WHERE id = ANY($2::text[])', [now + ttlMs, ids]);
  }

  async removeIntent(id: string): Promise<void> {
    await this.db.query('DELETE FROM write_intents WHERE id = $1', [id]);
  }

  async oldestIntent(now: number): Promise<number | undefined> {
    const rows = await this.db.query<{ t: string | null }>('SELECT min(started_at) AS t FROM write_intents WHERE expires_at > $1', [now]);
    const t = rows[0]?.t;
    return t === null || t === undefined ? undefined : Number(t);
  }

  async addPendingFrees(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('INSERT INTO pending_frees(data_id, freed_at) SELECT unnest($1::text[]), $2 ON CONFLICT (data_id) DO NOTHING', [ids, now]);
  }

  takeDueFrees(dueBefore: number, now: number, limit: number, keep: (id: string) => boolean): Promise<string[]> {
    return this.db.tx(
      async (c) => {
        // Rows of dead readers and dead writers go too (index range deletes).
        await c.query('DELETE FROM read_pins WHERE expires_at <= $1', [now]);
        await c.query('DELETE FROM write_intents WHERE expires_at <= $1', [now]);
        // Rows another process is taking right now are skipped, not waited for.
        const due = await c.query<{ data_id: string }>(
          `SELECT data_id FROM pending_frees f WHERE freed_at <= $1
             AND NOT EXISTS (SELECT 1 FROM read_pins p WHERE p.data_id = f.data_id AND p.expires_at > $2)
           ORDER BY freed_at LIMIT $3 FOR UPDATE OF f SKIP LOCKED`,
          [dueBefore, now, limit],
        );
        const mine = due.rows.map((r) => r.data_id).filter((id) => !keep(id));
        if (mine.length === 0) return [];
        const taken = (await c.query<{ data_id: string }>('DELETE FROM pending_frees WHERE data_id = ANY($1::text[]) RETURNING data_id', [mine])).rows.map(
          (r) => r.data_id,
        );
        // A free that is referenced again (a version or part points at the piece) is dropped, not unlinked.
        if (taken.length === 0) return taken;
        const unreferenced = new Set((await c.query<{ id: string }>(UNREFERENCED_SQL, [taken])).rows.map((r) => r.id));
        return taken.filter((id) => unreferenced.has(id));
      },
      { isolation: 'read committed' },
    );
  }

  async pendingFrees(): Promise<number> {
    const rows = await this.db.query<{ n: string }>('SELECT count(*) AS n FROM pending_frees');
    return Number(rows[0]!.n);
  }

  async pin(pinId: string, ids: string[], expiresAt: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query(
      `INSERT INTO read_pins(pin_id, data_id, expires_at) SELECT $1, unnest($2::text[]), $3
       ON CONFLICT (pin_id, data_id) DO UPDATE SET expires_at = excluded.expires_at`,
      [pinId, [...new Set(ids)], expiresAt],
    );
  }

  async unpin(pinId: string): Promise<void> {
    await this.db.query('DELETE FROM read_pins WHERE pin_id = $1', [pinId]);
  }
}
