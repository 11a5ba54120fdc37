// The SQLite Coordination (see ../coord.ts): leases, write intents, pending frees and read pins as
// rows of the metadata database (tables of format 4, sqlite-schema.ts). Each call is one tiny
// IMMEDIATE transaction that never waits inside SQLite: a locked database (another process
// writing) is retried asynchronously with backoff (sqlite-busy.ts), then StoreError('Busy').
// These rows need no durability (a crash loses at most a lease that would expire, or a pending
// free whose piece the orphan sweep finds), so no write waits for a WAL sync.
import type { Coordination } from '../coord.js';
import { busyBackoff, busyError, isBusyError, read, sleep, storeErrorOf } from './sqlite-busy.js';
import type { Db, Stmt } from './sqlite-sql.js';

export class SqliteCoordination implements Coordination {
  private readonly st: Record<string, Stmt>;
  private readonly leaseTx: (name: string, owner: string, now: number, ttl: number) => boolean;
  private readonly takeTx: (dueBefore: number, now: number, limit: number, keep: (id: string) => boolean) => string[];
  private readonly pinTx: (pinId: string, ids: string[], expiresAt: number) => void;

  constructor(
    private readonly db: Db,
    private readonly busyRetryMs: number,
  ) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.st = {
      getLease: p('SELECT owner, expires_at FROM leases WHERE name = ?'),
      putLease: p('INSERT OR REPLACE INTO leases(name, owner, expires_at) VALUES (?, ?, ?)'),
      dropLease: p('DELETE FROM leases WHERE name = ? AND owner = ?'),
      addIntent: p('INSERT OR REPLACE INTO write_intents(id, owner, started_at, expires_at) VALUES (?, ?, ?, ?)'),
      renewIntent: p('UPDATE write_intents SET expires_at = ? WHERE id = ?'),
      dropIntent: p('DELETE FROM write_intents WHERE id = ?'),
      oldestIntent: p('SELECT min(started_at) AS t FROM write_intents WHERE expires_at > ?'),
      purgeIntents: p('DELETE FROM write_intents WHERE expires_at <= ?'),
      addFree: p('INSERT OR IGNORE INTO pending_frees(data_id, freed_at) VALUES (?, ?)'),
      dueFrees: p(
        `SELECT data_id FROM pending_frees INDEXED BY pending_frees_due WHERE freed_at <= ?
           AND NOT EXISTS (SELECT 1 FROM read_pins WHERE read_pins.data_id = pending_frees.data_id AND expires_at > ?)
         ORDER BY freed_at LIMIT ?`,
      ),
      dropFree: p('DELETE FROM pending_frees WHERE data_id = ?'),
      countFrees: p('SELECT count(*) AS n FROM pending_frees'),
      referenced: p('SELECT 1 FROM object_data WHERE data_id = ? UNION ALL SELECT 1 FROM upload_parts WHERE data_id = ? LIMIT 1'),
      addPin: p('INSERT OR REPLACE INTO read_pins(pin_id, data_id, expires_at) VALUES (?, ?, ?)'),
      dropPin: p('DELETE FROM read_pins WHERE pin_id = ?'),
      purgePins: p('DELETE FROM read_pins WHERE expires_at <= ?'),
    };
    this.leaseTx = db.transaction((name: string, owner: string, now: number, ttl: number) => {
      const row = this.st.getLease!.get(name) as { owner: string; expires_at: number } | undefined;
      if (row && row.owner !== owner && row.expires_at > now) return false;
      this.st.putLease!.run(name, owner, now + ttl);
      return true;
    }).immediate;
    this.takeTx = db.transaction((dueBefore: number, now: number, limit: number, keep: (id: string) => boolean) => {
      const out: string[] = [];
      // Rows of dead readers and dead writers go too (bounded by their expiry index scans).
      this.st.purgePins!.run(now);
      this.st.purgeIntents!.run(now);
      for (const { data_id: id } of this.st.dueFrees!.all(dueBefore, now, limit) as Array<{ data_id: string }>) {
        if (keep(id)) continue;
        this.st.dropFree!.run(id);
        if (this.st.referenced!.get(id, id) === undefined) out.push(id);
      }
      return out;
    }).immediate;
    this.pinTx = db.transaction((pinId: string, ids: string[], expiresAt: number) => {
      for (const id of ids) this.st.addPin!.run(pinId, id, expiresAt);
    }).immediate;
  }

  /** Runs a write transaction, retrying a locked database off the event loop until busyRetryMs. */
  private async write<T>(run: () => T): Promise<T> {
    const deadline = Date.now() + this.busyRetryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return run();
      } catch (err) {
        if (!isBusyError(err)) throw storeErrorOf(err);
        if (Date.now() >= deadline) throw busyError();
      }
      await sleep(busyBackoff(attempt));
    }
  }

  tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean> {
    return this.write(() => this.leaseTx(name, owner, now, ttlMs));
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.write(() => this.st.dropLease!.run(name, owner));
  }

  async leaseHolder(name: string, now: number): Promise<string | undefined> {
    return read(() => {
      const row = this.st.getLease!.get(name) as { owner: string; expires_at: number } | undefined;
      return row && row.expires_at > now ? row.owner : undefined;
    });
  }

  async clearProcesses(): Promise<void> {
    await this.write(
      this.db.transaction(() => {
        this.db.exec('DELETE FROM leases; DELETE FROM write_intents; DELETE FROM read_pins;');
      }).immediate,
    );
  }

  async addIntent(id: string, owner: string, now: number, ttlMs: number): Promise<void> {
    await this.write(() => this.st.addIntent!.run(id, owner, now, now + ttlMs));
  }

  async renewIntents(ids: string[], now: number, ttlMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.write(
      this.db.transaction(() => {
        for (const id of ids) this.st.renewIntent!.run(now + ttlMs, id);
      }).immediate,
    );
  }

  async removeIntent(id: string): Promise<void> {
    await this.write(() => this.st.dropIntent!.run(id));
  }

  async oldestIntent(now: number): Promise<number | undefined> {
    return read(() => (this.st.oldestIntent!.get(now) as { t: number | null }).t ?? undefined);
  }

  async addPendingFrees(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.write(
      this.db.transaction(() => {
        for (const id of ids) this.st.addFree!.run(id, now);
      }).immediate,
    );
  }

  takeDueFrees(dueBefore: number, now: number, limit: number, keep: (id: string) => boolean): Promise<string[]> {
    return this.write(() => this.takeTx(dueBefore, now, limit, keep));
  }

  async pendingFrees(): Promise<number> {
    return read(() => (this.st.countFrees!.get() as { n: number }).n);
  }

  async pin(pinId: string, ids: string[], expiresAt: number): Promise<void> {
    await this.write(() => this.pinTx(pinId, ids, expiresAt));
  }

  async unpin(pinId: string): Promise<void> {
    await this.write(() => this.st.dropPin!.run(pinId));
  }
}
