// The SQLite KmsKeyStore (../kms-keys.ts): master keys and their versions in the format-9 tables
// (sqlite-schema.ts). Each change is one small transaction through the store's write scheduler
// (durable like any metadata write) that also bumps the key generation (the `meta` row
// KMS_GENERATION); reads are primary-key reads, so another process's change is seen by the next read.
// requestGeneration answers from the per-request data_version check (sqlite-hot.ts), which reads the
// generation with it: no read of its own for each data-key call of a worker.
import { StoreError } from '../errors.js';
import type { KmsKeyRecord, KmsKeyStore, KmsKeyVersionRecord } from '../kms-keys.js';
import { read } from './sqlite-busy.js';
import type { HotReads } from './sqlite-hot.js';
import type { Db, Stmt } from './sqlite-sql.js';

type Write = <T>(run: () => T) => T | Promise<T>;

interface KeyRow {
  key_id: string;
  enabled: number;
  created_at: number;
  current_version: number;
  rotated_at: number;
}
interface VersionRow {
  key_id: string;
  version: number;
  created_at: number;
  root_key_id: string;
  material: Buffer | null;
}

const toKey = (r: KeyRow): KmsKeyRecord => ({
  keyId: r.key_id,
  enabled: r.enabled === 1,
  created: r.created_at,
  currentVersion: r.current_version,
  rotated: r.rotated_at,
});
const toVersion = (r: VersionRow): KmsKeyVersionRecord => ({
  keyId: r.key_id,
  version: r.version,
  created: r.created_at,
  rootKeyId: r.root_key_id,
  ...(r.material !== null && { sealed: r.material }),
});
/** The `meta` row counting key changes (no row: 0); every write transaction of this store adds one. */
export const KMS_GENERATION = 'kms_generation';

const noSuchKey = (keyId: string) => new StoreError('NoSuchEntity', `Key '${keyId}' does not exist.`);

export class SqliteKmsKeys implements KmsKeyStore {
  private readonly st: Record<string, Stmt>;
  private readonly createTx: (key: KmsKeyRecord, first: KmsKeyVersionRecord) => void;
  private readonly addVersionTx: (v: KmsKeyVersionRecord) => KmsKeyRecord;
  private readonly setEnabledTx: (keyId: string, enabled: boolean) => KmsKeyRecord;
  /** Writes of this store under way (their commit may not be in the last data_version check yet). */
  private writing = 0;
  /** The number of the last data_version check made before a write of this store ended. */
  private writtenAt = -1;

  constructor(
    db: Db,
    private readonly write: Write,
    /** The per-request check that also reads the generation (requestGeneration); none: always read. */
    private readonly hot?: HotReads,
  ) {
    const p = (sql: string): Stmt => db.prepare(sql);
    this.st = {
      getKey: p('SELECT * FROM kms_keys WHERE key_id = ?'),
      listKeys: p('SELECT * FROM kms_keys ORDER BY key_id'),
      addKey: p('INSERT INTO kms_keys(key_id, enabled, created_at, current_version, rotated_at) VALUES (?, ?, ?, ?, ?)'),
      getVersion: p('SELECT * FROM kms_key_versions WHERE key_id = ? AND version = ?'),
      addVersion: p('INSERT INTO kms_key_versions(key_id, version, created_at, root_key_id, material) VALUES (?, ?, ?, ?, ?)'),
      setCurrent: p('UPDATE kms_keys SET current_version = ?, rotated_at = ? WHERE key_id = ?'),
      setEnabled: p('UPDATE kms_keys SET enabled = ? WHERE key_id = ?'),
      bump: p(`INSERT INTO meta(name, value) VALUES ('${KMS_GENERATION}', 1) ON CONFLICT(name) DO UPDATE SET value = value + 1`),
      generation: p(`SELECT coalesce((SELECT value FROM meta WHERE name = '${KMS_GENERATION}'), 0)`).pluck(),
    };
    const insertVersion = (v: KmsKeyVersionRecord) => {
      if (this.st.getVersion!.get(v.keyId, v.version) !== undefined)
        throw new StoreError('EntityAlreadyExists', `Version ${v.version} of key '${v.keyId}' exists already.`);
      this.st.addVersion!.run(v.keyId, v.version, v.created, v.rootKeyId, v.sealed ?? null);
    };
    const mustKey = (keyId: string): KmsKeyRecord => {
      const r = this.st.getKey!.get(keyId) as KeyRow | undefined;
      if (r === undefined) throw noSuchKey(keyId);
      return toKey(r);
    };
    this.createTx = db.transaction((key: KmsKeyRecord, first: KmsKeyVersionRecord) => {
      if (this.st.getKey!.get(key.keyId) !== undefined) throw new StoreError('EntityAlreadyExists', `Key '${key.keyId}' exists already.`);
      this.st.addKey!.run(key.keyId, key.enabled ? 1 : 0, key.created, key.currentVersion, key.rotated);
      insertVersion(first);
      this.st.bump!.run();
    }).immediate;
    this.addVersionTx = db.transaction((v: KmsKeyVersionRecord) => {
      mustKey(v.keyId);
      insertVersion(v);
      this.st.setCurrent!.run(v.version, v.created, v.keyId);
      this.st.bump!.run();
      return mustKey(v.keyId);
    }).immediate;
    this.setEnabledTx = db.transaction((keyId: string, enabled: boolean) => {
      if (this.st.setEnabled!.run(enabled ? 1 : 0, keyId).changes === 0) throw noSuchKey(keyId);
      this.st.bump!.run();
      return mustKey(keyId);
    }).immediate;
  }

  generation(): number {
    return read(() => this.st.generation!.get() as number);
  }

  /**
   * The generation as of this request's arrival (KmsKeyStore): as the per-request data_version check
   * read it, unless a write of this store is under way or ended after that check (its change would be
   * missed): then read now.
   */
  requestGeneration(): number {
    if (this.writing === 0) {
      const g = this.hot?.requestKmsGeneration();
      if (g !== undefined && this.hot!.checks > this.writtenAt) return g;
    }
    return this.generation();
  }

  /** Runs a write, noting it for requestGeneration. */
  private written<T>(run: () => T): T | Promise<T> {
    this.writing++;
    const done = () => {
      this.writing--;
      this.writtenAt = this.hot?.checks ?? -1;
    };
    let out: T | Promise<T>;
    try {
      out = this.write(run);
    } catch (err) {
      done();
      throw err;
    }
    if (!(out instanceof Promise)) {
      done();
      return out;
    }
    return out.finally(done);
  }
  getKey(keyId: string): KmsKeyRecord | undefined {
    return read(() => {
      const r = this.st.getKey!.get(keyId) as KeyRow | undefined;
      return r && toKey(r);
    });
  }
  listKeys(): KmsKeyRecord[] {
    return read(() => (this.st.listKeys!.all() as KeyRow[]).map(toKey));
  }
  getVersion(keyId: string, version: number): KmsKeyVersionRecord | undefined {
    return read(() => {
      const r = this.st.getVersion!.get(keyId, version) as VersionRow | undefined;
      return r && toVersion(r);
    });
  }
  createKey(key: KmsKeyRecord, first: KmsKeyVersionRecord): void | Promise<void> {
    return this.written(() => this.createTx(key, first));
  }
  addVersion(v: KmsKeyVersionRecord): KmsKeyRecord | Promise<KmsKeyRecord> {
    return this.written(() => this.addVersionTx(v));
  }
  setEnabled(keyId: string, enabled: boolean): KmsKeyRecord | Promise<KmsKeyRecord> {
    return this.written(() => this.setEnabledTx(keyId, enabled));
  }
}
