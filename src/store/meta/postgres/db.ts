// The PostgreSQL connection layer every PostgreSQL store module shares (docs/cluster.md): a pool
// (node-postgres), transactions retried on serialization failures and deadlocks (SQLSTATE 40001 /
// 40P01, as CockroachDB and YugabyteDB also ask of their clients), versioned migrations under an
// advisory lock, and the mapping of "the database is not there" to StoreError('Unavailable')
// (→ 503 SlowDown), quickly: a connection attempt and a statement are bounded in time, so a request
// fails fast while PostgreSQL is away and the pool reconnects on its own when it is back.
import pg from 'pg';
import { StoreError } from '../../errors.js';

export type PgClient = pg.PoolClient;

export interface PgOptions {
  /** Connections in the pool (default 16). */
  poolSize?: number;
  /** Time to get a connection before the request fails with Unavailable (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Bound of one statement, server side (default 15000 ms). */
  statementTimeoutMs?: number;
  /**
   * A session idle inside a transaction this long is ended by PostgreSQL, its locks released
   * (default 10000 ms, under the statement bound): a gateway frozen or cut off mid-transaction —
   * its machine lost, no FIN ever sent — blocks writers of the rows it locked for that long, not
   * for the hours TCP keepalive takes. Strata's own transactions never wait between statements.
   */
  idleInTransactionMs?: number;
  /** Name shown in pg_stat_activity. */
  applicationName?: string;
}

/** One versioned schema step. Ids sort in the order they apply ('0001-core', '0002-…'). */
export interface Migration {
  id: string;
  /** SQL run in the migration's transaction, or a function of its client. */
  up: string | ((c: PgClient) => Promise<void>);
}

export type Isolation = 'serializable' | 'repeatable read' | 'read committed';

/** SQLSTATEs after which the whole transaction is run again. */
const RETRY_CODES = new Set(['40001', '40P01']);
/** SQLSTATE classes meaning "no usable database now": connection exceptions, operator intervention, insufficient resources. */
const UNAVAILABLE_CLASSES = ['08', '57', '53'];
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

const MAX_ATTEMPTS = 12;

/** Whether err says the database (not the statement) failed: the request may succeed later. */
export function isUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === 'string') {
    if (UNAVAILABLE_ERRNOS.has(e.code)) return true;
    if (e.code.length === 5 && UNAVAILABLE_CLASSES.includes(e.code.slice(0, 2))) return true;
  }
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error|Query read timeout/i.test(
    msg,
  );
}

function unavailable(err: unknown): StoreError {
  const msg = err instanceof Error ? err.message : String(err);
  return new StoreError('Unavailable', `metadata database unavailable: ${msg}`);
}

export class PgDb {
  private constructor(
    readonly pool: pg.Pool,
    readonly url: string,
  ) {}

  /** A pool on `url`; nothing is connected until the first statement. */
  static create(url: string, opts: PgOptions = {}): PgDb {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 16,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 3000,
      idleTimeoutMillis: 30_000,
      statement_timeout: opts.statementTimeoutMs ?? 15_000,
      idle_in_transaction_session_timeout: opts.idleInTransactionMs ?? 10_000,
      query_timeout: (opts.statementTimeoutMs ?? 15_000) + 2000,
      application_name: opts.applicationName ?? 'strata',
      keepAlive: true,
    });
    // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; without a
    // listener the error would be an uncaught exception.
    pool.on('error', () => undefined);
    return new PgDb(pool, url);
  }

  /** One statement in its own (implicit) transaction. Database loss → StoreError('Unavailable'). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(text, params)).rows;
    } catch (err) {
      throw isUnavailable(err) ? unavailable(err) : err;
    }
  }

  /**
   * Runs fn in a transaction (default SERIALIZABLE) and commits; run again from the start on a
   * serialization failure or deadlock (with a short random backoff), so fn must have no effect
   * outside the database before it returns. Errors fn throws roll back and propagate (StoreError
   * as is); database loss becomes StoreError('Unavailable').
   */
  async tx<T>(fn: (c: PgClient) => Promise<T>, opts: { isolation?: Isolation; readOnly?: boolean } = {}): Promise<T> {
    const begin = `BEGIN ISOLATION LEVEL ${(opts.isolation ?? 'serializable').toUpperCase()}${opts.readOnly ? ' READ ONLY' : ''}`;
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw unavailable(err);
      }
      let broken = false;
      // The connection may break between two statements (PostgreSQL restarted): the checked-out
      // client then emits 'error', which without a listener would be an uncaught exception.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query(begin);
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (err) {
        if (isUnavailable(err)) broken = true;
        else await client.query('ROLLBACK').catch(() => (broken = true));
        const code = (err as { code?: string }).code;
        if (code && RETRY_CODES.has(code) && attempt < MAX_ATTEMPTS) {
          await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 2 ** attempt)));
          continue;
        }
        if (broken) throw unavailable(err);
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    }
  }

  /**
   * Applies the migrations not yet recorded in strata_migrations, in id order, each in its own
   * transaction, under an advisory lock (several gateways starting at once migrate once).
   */
  async migrate(migrations: readonly Migration[]): Promise<string[]> {
    const sorted = [...migrations].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // A refused login or a missing database is not an outage: a start waiting for PostgreSQL stops at once on it.
    const client = await this.pool.connect().catch((err: unknown) => {
      throw isUnavailable(err) ? unavailable(err) : err;
    });
    const applied: string[] = [];
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS strata_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
      const done = new Set((await client.query<{ id: string }>('SELECT id FROM strata_migrations')).rows.map((r) => r.id));
      for (const m of sorted) {
        if (done.has(m.id)) continue;
        await client.query('BEGIN');
        try {
          if (typeof m.up === 'string') await client.query(m.up);
          else await m.up(client);
          await client.query('INSERT INTO strata_migrations (id) VALUES ($1)', [m.id]);
          await client.query('COMMIT');
          applied.push(m.id);
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new Error(`PostgreSQL migration ${m.id} failed: ${(err as Error).message}`);
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      client.release();
    }
    return applied;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Advisory lock key of the migration step ('strata' in ASCII). */
const MIGRATION_LOCK = 0x737472617461;
