// The PostgreSQL KmsKeyStore (../../kms-keys.ts), twin of sqlite-kms.ts: master keys and their
// versions in kms_keys / kms_key_versions (migration 0004-kms). Each write is one SERIALIZABLE
// transaction that bumps the `kms` generation and notifies; reads (synchronous) come from an
// in-memory snapshot of both tables read with that generation (snapshot.ts): a few rows per key.
// generation() is the snapshot's, so the key service (src/kms/builtin.ts) drops the states it
// cached exactly when the snapshot it reads them from changes. No requestGeneration: generation()
// is a memory read already.
import { StoreError } from '../../errors.js';
import type { KmsKeyRecord, KmsKeyStore, KmsKeyVersionRecord } from '../../kms-keys.js';
import type { Migration, PgClient, PgDb } from './db.js';
import { type ChangeFeed, generationRowDdl, readGeneration, SnapshotStore } from './snapshot.js';

/** The strata_generations row (and notification payload) of the key tables. */
export const KMS = 'kms';

export const KMS_MIGRATION: Migration = {
  id: '0004-kms',
  up: `
${generationRowDdl(KMS)}
CREATE TABLE kms_keys (
  key_id          text COLLATE "C" PRIMARY KEY,
  enabled         boolean NOT NULL,
  created_at      bigint NOT NULL,
  current_version integer NOT NULL,
  rotated_at      bigint NOT NULL
);
CREATE TABLE kms_key_versions (
  key_id      text COLLATE "C" NOT NULL REFERENCES kms_keys(key_id),
  version     integer NOT NULL,
  created_at  bigint NOT NULL,
  root_key_id text NOT NULL,
  material    bytea,
  PRIMARY KEY (key_id, version)
);
`,
};

interface KeyRow {
  key_id: string;
  enabled: boolean;
  created_at: string;
  current_version: number;
  rotated_at: string;
}
interface VersionRow {
  key_id: string;
  version: number;
  created_at: string;
  root_key_id: string;
  material: Buffer | null;
}

const toKey = (r: KeyRow): KmsKeyRecord =>
  Object.freeze({ keyId: r.key_id, enabled: r.enabled, created: Number(r.created_at), currentVersion: r.current_version, rotated: Number(r.rotated_at) });
const toVersion = (r: VersionRow): KmsKeyVersionRecord =>
  Object.freeze({
    keyId: r.key_id,
    version: r.version,
    created: Number(r.created_at),
    rootKeyId: r.root_key_id,
    ...(r.material !== null && { sealed: r.material }),
  });

interface Keys {
  readonly generation: number;
  /** In key id byte order. */
  readonly keys: Map<string, KmsKeyRecord>;
  /** By `keyId\nversion`. */
  readonly versions: Map<string, KmsKeyVersionRecord>;
}

const empty = (): Keys => ({ generation: -1, keys: new Map(), versions: new Map() });

async function loadKeys(c: PgClient): Promise<Keys> {
  const generation = await readGeneration(c, KMS);
  const keys = new Map<string, KmsKeyRecord>();
  for (const r of (await c.query<KeyRow>('SELECT * FROM kms_keys ORDER BY key_id')).rows) keys.set(r.key_id, toKey(r));
  const versions = new Map<string, KmsKeyVersionRecord>();
  for (const r of (await c.query<VersionRow>('SELECT * FROM kms_key_versions')).rows) versions.set(`${r.key_id}\n${r.version}`, toVersion(r));
  return { generation, keys, versions };
}

const noSuchKey = (keyId: string) => new StoreError('NoSuchEntity', `Key '${keyId}' does not exist.`);

async function mustKey(c: PgClient, keyId: string): Promise<KmsKeyRecord> {
  const r = (await c.query<KeyRow>('SELECT * FROM kms_keys WHERE key_id = $1', [keyId])).rows[0];
  if (r === undefined) throw noSuchKey(keyId);
  return toKey(r);
}

async function insertVersion(c: PgClient, v: KmsKeyVersionRecord): Promise<void> {
  if (((await c.query('SELECT 1 FROM kms_key_versions WHERE key_id = $1 AND version = $2', [v.keyId, v.version])).rowCount ?? 0) > 0)
    throw new StoreError('EntityAlreadyExists', `Version ${v.version} of key '${v.keyId}' exists already.`);
  await c.query('INSERT INTO kms_key_versions(key_id, version, created_at, root_key_id, material) VALUES ($1, $2, $3, $4, $5)', [
    v.keyId,
    v.version,
    v.created,
    v.rootKeyId,
    v.sealed ?? null,
  ]);
}

export class PgKmsKeys extends SnapshotStore<Keys> implements KmsKeyStore {
  constructor(db: PgDb, feed?: ChangeFeed) {
    super(db, KMS, loadKeys, empty(), feed);
  }

  generation(): number {
    return Math.max(0, this.snap.current.generation);
  }
  getKey(keyId: string): KmsKeyRecord | undefined {
    return this.snap.current.keys.get(keyId);
  }
  listKeys(): KmsKeyRecord[] {
    return [...this.snap.current.keys.values()];
  }
  getVersion(keyId: string, version: number): KmsKeyVersionRecord | undefined {
    return this.snap.current.versions.get(`${keyId}\n${version}`);
  }

  createKey(key: KmsKeyRecord, first: KmsKeyVersionRecord): Promise<void> {
    return this.snap.write(async (c) => {
      if (((await c.query('SELECT 1 FROM kms_keys WHERE key_id = $1', [key.keyId])).rowCount ?? 0) > 0)
        throw new StoreError('EntityAlreadyExists', `Key '${key.keyId}' exists already.`);
      await c.query('INSERT INTO kms_keys(key_id, enabled, created_at, current_version, rotated_at) VALUES ($1, $2, $3, $4, $5)', [
        key.keyId,
        key.enabled,
        key.created,
        key.currentVersion,
        key.rotated,
      ]);
      await insertVersion(c, first);
    });
  }
  addVersion(v: KmsKeyVersionRecord): Promise<KmsKeyRecord> {
    return this.snap.write(async (c) => {
      await mustKey(c, v.keyId);
      await insertVersion(c, v);
      await c.query('UPDATE kms_keys SET current_version = $1, rotated_at = $2 WHERE key_id = $3', [v.version, v.created, v.keyId]);
      return mustKey(c, v.keyId);
    });
  }
  setEnabled(keyId: string, enabled: boolean): Promise<KmsKeyRecord> {
    return this.snap.write(async (c) => {
      if ((await c.query('UPDATE kms_keys SET enabled = $1 WHERE key_id = $2', [enabled, keyId])).rowCount === 0) throw noSuchKey(keyId);
      return mustKey(c, keyId);
    });
  }
}
