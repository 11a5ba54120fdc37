// In-memory snapshots of small PostgreSQL tables, for the synchronous reads of the sub-store
// interfaces (IdentityStore.getUser, lookupAccessKey, KmsKeyStore.getKey, HealQueueStore.due…),
// which cannot wait for the database. A snapshot is one consistent read (one REPEATABLE READ
// transaction) of its tables together with its row of strata_generations, which every write of
// those tables bumps in its own transaction. It is loaded again:
//  (a) after this process's own write commits, before the write's promise resolves (read your writes);
//  (b) when `NOTIFY strata_changes, '<name>'` arrives (every write sends it in its transaction): one
//      LISTEN connection per process (ChangeFeed), reconnected with backoff when PostgreSQL restarts;
//  (c) when the 1-second poll of strata_generations shows a generation other than the snapshot's
//      (the safety net for a notification lost while the listener was reconnecting).
//  (d) with --etcd, when etcd's change notice for its name arrives (ChangeNotices: the writer
//      publishes the name after its commit, every gateway watches; src/cluster/etcd-changes.ts).
// So another process's change is served here within a second, and at once in the process that made it.
import pg from 'pg';
import type { ChangeNotices } from '../../types.js';
import type { Isolation, PgClient, PgDb } from './db.js';

/** The notification channel every sub-store write notifies in its transaction. */
export const CHANGES_CHANNEL = 'strata_changes';

/** What every snapshot holds: the generation it was read at (its strata_generations row). */
export interface Snapshotted {
  readonly generation: number;
}

/**
 * DDL for a migration step: the generations table (pg-core's 0001-core creates it; kept idempotent
 * here so that the sub-store steps stand alone) and the row `name`, starting at 0.
 */
export function generationRowDdl(name: string): string {
  return `CREATE TABLE IF NOT EXISTS strata_generations (name text COLLATE "C" PRIMARY KEY, value bigint NOT NULL);
INSERT INTO strata_generations(name, value) VALUES ('${name}', 0) ON CONFLICT (name) DO NOTHING;`;
}

/**
 * In a write transaction: adds one to the generation `name` and notifies the other processes
 * (PostgreSQL delivers the notification at commit, never for a rolled-back transaction).
 */
export async function announceChange(c: PgClient, name: string): Promise<void> {
  await c.query(`UPDATE strata_generations SET value = value + 1 WHERE name = $1`, [name]);
  await c.query(`SELECT pg_notify('${CHANGES_CHANNEL}', $1)`, [name]);
}

/** The generation `name` as read by c (in the snapshot's transaction). */
export async function readGeneration(c: PgClient, name: string): Promise<number> {
  const r = await c.query<{ value: string }>('SELECT value FROM strata_generations WHERE name = $1', [name]);
  return r.rows[0] === undefined ? 0 : Number(r.rows[0].value);
}

const noop = (): void => undefined;

/**
 * One snapshot: `current` (never waits), `refresh()` (loads again; at most one load at a time, and a
 * refresh asked during a load gets a load that starts after it). A load never replaces a newer
 * snapshot (generations only grow), so concurrent callers cannot move it back in time.
 */
export class Snapshot<T extends Snapshotted> {
  private value: T;
  private loading: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly db: PgDb,
    /** Its strata_generations row and its notification payload. */
    readonly name: string,
    private readonly load: (c: PgClient) => Promise<T>,
    empty: T,
    /** Told of each committed write (it publishes the change through etcd, when configured). */
    private readonly feed?: ChangeFeed,
  ) {
    this.value = empty;
  }

  get current(): T {
    return this.value;
  }

  /** Loads the tables again; resolves once a load that started after this call has ended. */
  refresh(): Promise<void> {
    if (this.loading === undefined) return (this.loading = this.run());
    this.queued ??= this.loading.then(noop, noop).then(() => {
      this.queued = undefined;
      return (this.loading = this.run());
    });
    return this.queued;
  }

  /**
   * A write of the snapshot's tables: fn in a transaction (default SERIALIZABLE, retried on
   * serialization failures) that also bumps the generation and notifies; once committed, the
   * snapshot is loaded again before the promise resolves (this process reads its own write, unless
   * PostgreSQL was lost right after the commit: then the poll reloads it when it is back).
   */
  async write<R>(fn: (c: PgClient) => Promise<R>, isolation: Isolation = 'serializable'): Promise<R> {
    const out = await this.db.tx(
      async (c) => {
        const r = await fn(c);
        await announceChange(c, this.name);
        return r;
      },
      { isolation },
    );
    this.feed?.committed(this.name);
    // Committed: the write succeeded whatever the reload does. A reload that fails (PostgreSQL lost
    // just after the commit) is not the write's failure — a client told so would retry a write that
    // happened; the change feed's poll loads the snapshot once PostgreSQL answers again.
    await this.refresh().catch(noop);
    return out;
  }

  private run(): Promise<void> {
    const p: Promise<void> = this.db
      .tx((c) => this.load(c), { isolation: 'repeatable read', readOnly: true })
      .then((v) => {
        if (v.generation >= this.value.generation) this.value = v;
      })
      .finally(() => {
        if (this.loading === p) this.loading = undefined;
      });
    return p;
  }
}

/**
 * What the change feed keeps current: a snapshot, or anything else named by a strata_generations
 * row (the bucket cache, bucket-cache.ts). `refresh()` is called when `name` is notified, when the
 * poll sees a generation other than `current.generation`, and when the LISTEN connection comes back.
 */
export interface FeedSubscriber {
  readonly name: string;
  readonly current: Snapshotted;
  refresh(): Promise<void>;
}

/** What the snapshot sub-stores share: their snapshot, registered with the process's change feed. */
export abstract class SnapshotStore<T extends Snapshotted> {
  protected readonly snap: Snapshot<T>;

  constructor(
    db: PgDb,
    name: string,
    load: (c: PgClient) => Promise<T>,
    empty: T,
    private readonly feed?: ChangeFeed,
  ) {
    this.snap = new Snapshot(db, name, load, empty, feed);
    feed?.register(this.snap);
  }

  /** Loads the snapshot (at open; then the writes, the change feed and its poll keep it current). */
  refresh(): Promise<void> {
    return this.snap.refresh();
  }

  /** Leaves the change feed (the last sub-store to leave closes it). */
  async close(): Promise<void> {
    await this.feed?.unregister(this.snap);
  }
}

export interface ChangeFeedOptions {
  /** The safety-net poll of strata_generations (default 1000 ms). */
  pollMs?: number;
  /** Bounds of the reconnection backoff of the LISTEN connection (default 100 ms … 5000 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Keep the LISTEN connection (default true; false: the poll alone, tests of the safety net). */
  listen?: boolean;
}

/**
 * One per process: the LISTEN connection and the poll that keep its snapshots current. A snapshot
 * registered here is reloaded when its name is notified or its generation row moves.
 */
export class ChangeFeed {
  private readonly subs = new Map<string, FeedSubscriber>();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private notices: ChangeNotices | undefined;
  private onPublishError: ((name: string, err: unknown) => void) | undefined;
  private backoff: number;
  /** Times the LISTEN connection was (re)established (tests, diagnostics). */
  connects = 0;

  constructor(
    private readonly db: PgDb,
    private readonly opts: ChangeFeedOptions = {},
  ) {
    this.backoff = opts.minBackoffMs ?? 100;
  }

  /**
   * Also carries changes through `notices` (etcd): what this process commits is published there
   * after the commit (best effort: a failure leaves it to LISTEN and the poll), and a notice from
   * any process reloads the subscriber it names. Returns a function that detaches it.
   */
  attachNotices(notices: ChangeNotices, onPublishError?: (name: string, err: unknown) => void): () => void {
    this.notices = notices;
    this.onPublishError = onPublishError;
    const off = notices.onChange((name) => this.notified(name));
    return () => {
      off();
      if (this.notices === notices) this.notices = undefined;
    };
  }

  /** A change of `name` was announced (by etcd): reload its subscriber. */
  notified(name: string): void {
    this.subs.get(name)?.refresh().catch(noop);
  }

  /** This process committed a change of `name` (its transaction also notified PostgreSQL's channel). */
  committed(name: string): void {
    const n = this.notices;
    if (n === undefined) return;
    n.publishChange(name).catch((err) => this.onPublishError?.(name, err));
  }

  register(s: FeedSubscriber): void {
    this.subs.set(s.name, s);
  }

  /** A sub-store closes: once none is left, the feed closes too (PgMetaStore.close closes each). */
  async unregister(s: FeedSubscriber): Promise<void> {
    if (this.subs.get(s.name) === s) this.subs.delete(s.name);
    if (this.subs.size === 0) await this.close();
  }

  /** Starts listening and polling (a failed connection is retried in the background). */
  start(): void {
    if (this.timer !== undefined || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.opts.pollMs ?? 1000);
    this.timer.unref();
    if (this.opts.listen !== false) void this.connect();
  }

  /** Whether the LISTEN connection is up (tests, diagnostics). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.db.url, connectionTimeoutMillis: 3000, keepAlive: true, application_name: 'strata-listen' });
    let lost = false;
    const onLost = (): void => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(noop);
      this.reconnectLater();
    };
    client.on('error', onLost);
    client.on('end', onLost);
    client.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL && n.payload !== undefined) this.notified(n.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch {
      onLost();
      return;
    }
    if (this.closed || lost) {
      client.end().catch(noop);
      return;
    }
    this.client = client;
    this.connects++;
    this.backoff = this.opts.minBackoffMs ?? 100;
    // Changes made while nothing listened were not notified here: look again at everything.
    for (const s of this.subs.values()) s.refresh().catch(noop);
  }

  private reconnectLater(): void {
    if (this.closed || this.retry !== undefined) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.connect();
    }, wait);
    this.retry.unref();
  }

  /** The safety net: any generation row other than its snapshot's reloads that snapshot. */
  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const rows = await this.db.query<{ name: string; value: string }>('SELECT name, value FROM strata_generations');
      for (const r of rows) {
        const s = this.subs.get(r.name);
        if (s !== undefined && Number(r.value) !== s.current.generation) s.refresh().catch(noop);
      }
    } catch {
      // PostgreSQL away: the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(noop);
  }
}
