// The PostgreSQL leader elector: the leader is the process whose dedicated connection holds the session
// advisory lock of the election (`pg_try_advisory_lock`). PostgreSQL frees the lock when the session
// ends, so a leader that crashes, or whose connection is cut, loses the role at once.
//
// A session the server still believes alive keeps the lock, so a leader cut off from PostgreSQL
// without either side noticing (a network partition) must stop on its own before the server frees
// it: the connection sets `idle_session_timeout` (PostgreSQL ≥ 14) to the lease time, the leader
// pings every third of it, and counts its leadership valid until `sent + lease − margin` of its last
// answered ping — the server ends the session no earlier than the lease time after that ping.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { type LeaderElector, LeaderState } from './leader.js';

export interface PgElectorOptions {
  /** PostgreSQL URL (a direct connection: a pooler in transaction mode would not keep the session lock). */
  url: string;
  owner: string;
  /** Election name (default 'jobs'): hashed into the lock key. */
  name?: string;
  /** Lease time in ms (default 5000): the leader pings every third of it; see the header. */
  leaseMs?: number;
  /** Time between a candidate's attempts (default 1000 ms). */
  pollMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

/** The application_name prefix of elector connections (leader() finds the holder's owner by it). */
const APP = 'strata-leader:';

/** The advisory lock key of an election: 63 bits of SHA-256 of its name, so every gateway agrees. */
export function advisoryKey(name: string): bigint {
  return createHash('sha256').update(`strata/leader/${name}`).digest().readBigInt64BE(0);
}

export class PgElector implements LeaderElector {
  private readonly key: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly state: LeaderState;
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client | undefined> | undefined;
  private holds = false;
  private validUntil = 0;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private expiry: NodeJS.Timeout | undefined;
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly o: PgElectorOptions) {
    this.key = advisoryKey(o.name ?? 'jobs').toString();
    this.leaseMs = o.leaseMs ?? 5000;
    this.pollMs = o.pollMs ?? 1000;
    this.state = new LeaderState(o.log);
    this.kick();
  }

  isLeader(): boolean {
    return this.holds && Date.now() < this.validUntil;
  }

  onChange(fn: (leader: boolean) => void): () => void {
    return this.state.onChange(fn);
  }

  async leader(): Promise<string | undefined> {
    const c = new pg.Client({ connectionString: this.o.url, connectionTimeoutMillis: 3000, statement_timeout: 3000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      const hi = BigInt.asIntN(32, BigInt(this.key) >> 32n);
      const lo = BigInt.asIntN(32, BigInt(this.key) & 0xffffffffn);
      // A bigint advisory key shows in pg_locks as classid = high half, objid = low half (as oids), objsubid 1.
      const r = await c.query<{ app: string }>(
        `SELECT a.application_name AS app FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.classid = ($1::bigint & 4294967295)::oid AND l.objid = ($2::bigint & 4294967295)::oid`,
        [hi.toString(), lo.toString()],
      );
      const app = r.rows[0]?.app;
      return app?.startsWith(APP) ? app.slice(APP.length) : undefined;
    } catch {
      return undefined;
    } finally {
      await c.end().catch(() => undefined);
    }
  }

  async close(opts: { resign?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.expiry);
    this.lose('closed');
    await this.round;
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    if (opts.resign === false) {
      // Vanish as a crashed process does: the socket closes without a word (the server frees the lock when it notices).
      (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
      return;
    }
    await c.query('SELECT pg_advisory_unlock($1::bigint)', [this.key]).catch(() => undefined);
    await c.end().catch(() => undefined);
  }

  private lose(why: string): void {
    this.holds = false;
    this.validUntil = 0;
    clearTimeout(this.expiry);
    this.state.set(false, this.o.owner, why);
  }

  private kick(): void {
    if (this.closed) return;
    this.round = this.round
      .then(() => this.attempt())
      .then(() => {
        if (this.closed) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.kick(), this.holds ? this.leaseMs / 3 : this.pollMs);
      });
  }

  /** The dedicated connection (opened on demand); losing it is losing the lock. */
  private connect(): Promise<pg.Client | undefined> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: this.o.url,
        connectionTimeoutMillis: 3000,
        keepAlive: true,
        query_timeout: Math.max(1000, Math.floor(this.leaseMs / 3)),
        statement_timeout: Math.max(1000, Math.floor(this.leaseMs / 3)),
        application_name: `${APP}${this.o.owner}`.slice(0, 63),
      });
      const gone = (why: string) => () => {
        if (this.client !== c) return;
        this.client = undefined;
        this.lose(why);
      };
      c.on('error', gone('connection error'));
      c.on('end', gone('connection ended'));
      try {
        await c.connect();
        // The server ends a session idle this long: a partitioned leader's lock is freed in bounded time.
        await c.query(`SET idle_session_timeout = ${Math.ceil(this.leaseMs)}`).catch((err: unknown) => {
          // Before PostgreSQL 14 there is no such setting: TCP keep-alives are then the only bound.
          if ((err as { code?: string }).code !== '42704') throw err;
        });
        if (this.closed) {
          await c.end().catch(() => undefined);
          return undefined;
        }
        this.client = c;
        return c;
      } catch (err) {
        this.o.log?.warn({ err: String(err) }, 'job leader: cannot connect to PostgreSQL');
        await c.end().catch(() => undefined);
        return undefined;
      }
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    const c = await this.connect();
    if (!c || this.closed) return;
    const sent = Date.now();
    try {
      if (this.holds) {
        await c.query('SELECT 1');
      } else {
        const r = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [this.key]);
        if (!r.rows[0]?.ok || this.closed || this.client !== c) return;
        this.holds = true;
      }
      if (this.client !== c) return;
      this.validUntil = sent + this.leaseMs - Math.max(300, this.leaseMs / 10);
      clearTimeout(this.expiry);
      this.expiry = setTimeout(
        () => {
          if (!this.isLeader() && this.holds) {
            // No answered ping in time: the lock may be freed soon; drop the connection and start over.
            const old = this.client;
            this.client = undefined;
            this.lose('PostgreSQL did not answer in time');
            old?.end().catch(() => undefined);
          }
        },
        this.validUntil - Date.now() + 1,
      );
      this.state.set(true, this.o.owner, 'holds the advisory lock');
    } catch (err) {
      this.o.log?.warn({ err: String(err) }, 'job leader: PostgreSQL round failed');
      if (this.client === c) {
        this.client = undefined;
        this.lose('PostgreSQL round failed');
        await c.end().catch(() => undefined);
      }
    }
  }
}
