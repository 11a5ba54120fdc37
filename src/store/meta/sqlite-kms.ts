// The SQLite KmsKeyStore (../kms-keys.ts): master keys and their versions in the format-9 tables
// (sqlite-schema.ts). Each change is one small transaction through the store's write scheduler
// (durable like any metadata write); reads are primary-key reads, so another process's change is
// seen by the next read.
import { StoreError } from '../errors.js';
import type { KmsKeyRecord, KmsKeyStore, KmsKeyVersionRecord } from '../kms-keys.js';
import { read } from './sqlite-busy.js';
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
const noSuchKey = (keyId: string) => new StoreError('NoSuchEntity', `Key '${keyId}' does not exist.`);

export class SqliteKmsKeys implements KmsKeyStore {
  private readonly st: Record<string, Stmt>;
  private readonly createTx: (key: KmsKeyRecord, first: KmsKeyVersionRecord) => void;
  private readonly addVersionTx: (v: KmsKeyVersionRecord) => KmsKeyRecord;
  private readonly setEnabledTx: (keyId: string, enabled: boolean) => KmsKeyRecord;

  constructor(
    db: Db,
    private readonly write: Write,
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
    }).immediate;
    this.addVersionTx = db.transaction((v: KmsKeyVersionRecord) => {
      mustKey(v.keyId);
      insertVersion(v);
      this.st.setCurrent!.run(v.version, v.created, v.keyId);
      return mustKey(v.keyId);
    }).immediate;
    this.setEnabledTx = db.transaction((keyId: string, enabled: boolean) => {
      if (this.st.setEnabled!.run(enabled ? 1 : 0, keyId).changes === 0) throw noSuchKey(keyId);
      return mustKey(keyId);
    }).immediate;
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
    return this.write(() => this.createTx(key, first));
  }
  addVersion(v: KmsKeyVersionRecord): KmsKeyRecord | Promise<KmsKeyRecord> {
    return this.write(() => this.addVersionTx(v));
  }
  setEnabled(keyId: string, enabled: boolean): KmsKeyRecord | Promise<KmsKeyRecord> {
    return this.write(() => this.setEnabledTx(keyId, enabled));
  }
}
