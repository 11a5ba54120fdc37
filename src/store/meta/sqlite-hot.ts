// The small-request reads of the SQLite metadata store, through the hot-row cache (hot-rows.ts):
// a bucket, a bucket with configuration documents, an object version with its inline bytes. A miss
// is one statement (one implicit read transaction); a hit none.
//
// When a cached row may be used (docs/performance.md, "Round two: the small-request path"):
// - Commits of this connection drop what they change before they return (sqlite.ts calls dropKey,
//   dropBucket, dropConfigs, clear inside the write transaction), so a read after a write of this
//   process never sees the row before it.
// - Another connection's commits (another process on the data directory, `--shared`/workers; or a
//   second store on the same file) are detected by `PRAGMA data_version`, which changes when any
//   other connection has committed since this connection last looked. It is read (one read
//   transaction) at the first cached read after each request arrived (`requestArrived()`, called by
//   the HTTP server for every request and by the jobs runner before each step); a change clears the
//   whole cache. So a request never uses a row older than the database as it was when the request
//   arrived: whatever another process acknowledged before that is seen.
// - A store alone on its data directory (`othersMayWrite: false`: main.ts with the exclusive lock)
//   has no other writer and skips the check.
// - The check first reads the wal-index header from the `-shm` file (one pread, no lock): every
//   commit of any connection rewrites it (mxFrame grows within a WAL generation; a restarted WAL
//   has new salts) before that commit returns, so a header byte-identical to the one read before
//   the last statement check means nothing committed since, and the statement (a read transaction:
//   two `fcntl`s and a B-tree read; +16–27 µs per GET with two workers) is skipped. A header whose
//   two copies differ (a writer mid-update), or any other header, runs the statement as before; so
//   does a database without a `-shm` file (in memory, exclusive locking).
// The same statement reads the key service's generation (sqlite-kms.ts): the key states a worker's
// key service holds are checked against it for each request without a read of their own
// (SqliteKmsKeys.requestGeneration).
import { closeSync, openSync, readSync } from 'node:fs';
import { storedInlineSize } from '../sealed.js';
import { KMS_GENERATION } from './sqlite-kms.js';
import type { ObjectRecord, VersionExtras } from '../types.js';
import { DEFAULT_HOT_ROW_LIMITS, HotRows, type HotRowLimits } from './hot-rows.js';
import type { BucketRow, Db, ObjectInlineRow, ObjectRow, Stmt } from './sqlite-sql.js';
import { frozenExtras, parseExtras, recordOf, toBytes } from './sqlite-sql.js';
import { WAL_INDEX_HEADER, consistentWalIndexHeader } from './wal-frames.js';

export interface HotReadOptions {
  /** Bounds of the cache; false: no cache (every read goes to SQLite). */
  limits?: HotRowLimits | false;
  /** Other connections may commit to the database (default true): check data_version per request. */
  othersMayWrite?: boolean;
}

interface Statements {
  getBucket: Stmt;
  getLatest: Stmt;
  getVersion: Stmt;
  getLatestInline: Stmt;
  getVersionInline: Stmt;
}

const rowBytes = (r: ObjectRow): number => r.key.length + r.meta.length + r.data.length + (r.parts?.length ?? 0) + (r.extra?.length ?? 0) + r.etag.length;

export class HotReads {
  /** undefined: caching off. */
  readonly cache: HotRows<ObjectRow, BucketRow, unknown[]> | undefined;
  private readonly othersMayWrite: boolean;
  private readonly dataVersionSt: Stmt;
  private dataVersion = -1;
  /** The key generation (the `meta` row KMS_GENERATION) as of the last data_version check. */
  private kmsGeneration = 0;
  /** A request arrived since the last data_version check (true at first: check before the first use). */
  private checkPending = true;
  /** data_version checks made (tests: at most one per arrival), the statement's and the header's. */
  checks = 0;
  /** Checks that ran the statement (the wal-index header had moved, or could not be read). */
  statementChecks = 0;
  /** The `-shm` file (read only), undefined until first needed, null where there is none. */
  private shmFd: number | undefined | null;
  /** The wal-index header's two copies as last read. */
  private readonly shmNow = Buffer.alloc(WAL_INDEX_HEADER * 2);
  /** The header read before the last statement check that succeeded (empty: none yet). */
  private shmSeen = Buffer.alloc(0);

  constructor(
    private readonly db: Db,
    private readonly st: Statements,
    opts: HotReadOptions = {},
  ) {
    const limits = opts.limits ?? DEFAULT_HOT_ROW_LIMITS;
    this.cache = limits === false ? undefined : new HotRows(limits, rowBytes);
    this.othersMayWrite = opts.othersMayWrite ?? true;
    // One statement, one read transaction: data_version and the key generation at the same instant.
    this.dataVersionSt = db
      .prepare(`SELECT data_version, coalesce((SELECT value FROM meta WHERE name = '${KMS_GENERATION}'), 0) FROM pragma_data_version`)
      .raw();
  }

  /** A request (or a job step) begins: the next cached read checks for other connections' commits first. */
  requestArrived(): void {
    this.checkPending = true;
  }

  /** The cache, usable now (see the rule above), or undefined when caching is off. */
  private fresh(): HotRows<ObjectRow, BucketRow, unknown[]> | undefined {
    const cache = this.cache;
    if (cache === undefined || !this.checkPending) return cache;
    this.checkPending = false;
    if (this.othersMayWrite) {
      this.checks++;
      const header = this.walIndexHeader();
      if (header !== undefined && header.equals(this.shmSeen)) return cache;
      this.statementChecks++;
      const [v, generation] = this.dataVersionSt.get() as [number, number];
      this.kmsGeneration = generation;
      if (v !== this.dataVersion) {
        cache.clear();
        this.dataVersion = v;
      }
      // Read before the statement: a commit between the two moves it again, so it is seen next time.
      this.shmSeen = header === undefined ? Buffer.alloc(0) : Buffer.from(header);
    }
    return cache;
  }

  /** The wal-index header as the `-shm` file holds it now, or undefined (no such file, a torn read). */
  private walIndexHeader(): Buffer | undefined {
    if (this.shmFd === null) return undefined;
    try {
      this.shmFd ??= openSync(`${this.db.name}-shm`, 'r');
      if (readSync(this.shmFd, this.shmNow, 0, this.shmNow.length, 0) !== this.shmNow.length) return undefined;
    } catch {
      if (this.shmFd !== undefined) closeSync(this.shmFd);
      this.shmFd = null;
      return undefined;
    }
    return consistentWalIndexHeader(this.shmNow);
  }

  /** Closes the `-shm` descriptor (the store is closing). */
  close(): void {
    if (typeof this.shmFd === 'number') closeSync(this.shmFd);
    this.shmFd = null;
  }

  /**
   * The key generation as of this request's data_version check (made now if still pending), or
   * undefined when this store makes no such check (caching off, or no other writer): then read it.
   * `checks` after the call numbers the check it comes from.
   */
  requestKmsGeneration(): number | undefined {
    if (this.cache === undefined || !this.othersMayWrite) return undefined;
    this.fresh();
    return this.kmsGeneration;
  }

  bucket(name: string): BucketRow | undefined {
    const cache = this.fresh();
    const hit = cache?.bucket(name);
    if (hit) return hit;
    const row = this.st.getBucket.get(name) as BucketRow | undefined;
    // Absence is not kept: the readiness probe (getBucket('')) must reach the database.
    if (row !== undefined) cache?.setBucket(name, row);
    return row;
  }

  /** getBucketWithConfigs' raw row through `st` (the statement for these names). */
  bucketWithConfigs(name: string, configs: readonly string[], st: Stmt): unknown[] | undefined {
    const cache = this.fresh();
    const names = configs.join('\n');
    const hit = cache?.configs(name, names);
    if (hit !== undefined) return hit ?? undefined;
    const row = st.get(...configs, name) as unknown[] | undefined;
    cache?.setConfigs(name, names, row ?? null);
    return row;
  }

  /** A version as MetaStore.getObject answers it (inline bytes only `withBytes`), a fresh copy. */
  object(bucket: string, key: string, versionId: string | undefined, withBytes: boolean): ObjectRecord | undefined {
    const cache = this.fresh();
    const slot = versionId ?? '';
    let row: ObjectRow | null;
    let inline: Buffer | null | undefined;
    let entry = cache?.version(bucket, key, slot, withBytes);
    if (entry !== undefined) {
      row = entry.row;
      inline = entry.inline;
    } else {
      const kb = toBytes(key);
      if (withBytes) {
        const r = (versionId === undefined ? this.st.getLatestInline.get(bucket, kb) : this.st.getVersionInline.get(bucket, kb, versionId)) as
          | ObjectInlineRow
          | undefined;
        row = r ?? null;
        inline = r?.inline_bytes ?? null;
      } else {
        row = ((versionId === undefined ? this.st.getLatest.get(bucket, kb) : this.st.getVersion.get(bucket, kb, versionId)) as ObjectRow | undefined) ?? null;
        inline = undefined;
      }
      entry = cache?.setVersion(bucket, key, slot, row, inline);
    }
    if (row === null) return undefined;
    // The extras (tags, ACL, retention, encryption: JSON) are parsed once per cached row and shared, frozen.
    let extras: Readonly<VersionExtras> | undefined;
    if (row.extra !== null) {
      if (entry === undefined) extras = parseExtras(row.extra);
      else extras = (entry.derived ??= frozenExtras(row.extra)) as Readonly<VersionExtras>;
    }
    const rec = recordOf(row, extras);
    if (withBytes && rec.size > 0 && rec.data.length === 0) {
      // Stored inline (format 2): its bytes are in object_inline, removed only with the row.
      if (!inline || inline.length !== storedInlineSize(rec)) {
        throw new Error(`metadata: inline bytes of ${bucket}/${rec.key} (${row.version_id}) are missing or of the wrong size`);
      }
      // A copy: what the caller does with it must not reach the cache (the contract's rule).
      rec.inline = Buffer.from(inline);
    }
    return rec;
  }
}
