// Master keys of the built-in key service (format 9, src/kms/builtin.ts): each key's state and its
// versions. The store keeps what the key service hands it: a version's material arrives already
// sealed (AES-256-GCM under a key derived from the operator's root key) or absent (material the
// service derives from the root key itself), with the fingerprint of the root key that made it.

/** A master key's state (never its material). */
export interface KmsKeyRecord {
  readonly keyId: string;
  readonly enabled: boolean;
  /** ms since the epoch. */
  readonly created: number;
  /** The version new data keys are wrapped with. */
  readonly currentVersion: number;
  /** ms since the epoch of the last rotation (creation when never rotated). */
  readonly rotated: number;
}

/** One version of a master key's material. */
export interface KmsKeyVersionRecord {
  readonly keyId: string;
  /** 1, 2, … (each rotation adds one). */
  readonly version: number;
  readonly created: number;
  /** The fingerprint of the root key that sealed (or derives) the material: names it, reveals nothing. */
  readonly rootKeyId: string;
  /** IV, ciphertext and tag of the material; absent: derived from the root key (the default key's first version). */
  readonly sealed?: Buffer;
}

type MaybeAsync<T> = T | Promise<T>;

/**
 * The key tables of the metadata store. Failures are StoreErrors: 'NoSuchEntity' (no such key),
 * 'EntityAlreadyExists' (createKey of an existing id, addVersion of a version that exists: another
 * process rotated first). Reads are primary-key reads: another process's change is seen by the
 * next read. Every write also adds one to the key generation, so a process that cached key states
 * knows from one read whether they are still current.
 */
export interface KmsKeyStore {
  /** The key's state, one primary-key read. */
  getKey(keyId: string): KmsKeyRecord | undefined;
  listKeys(): KmsKeyRecord[];
  getVersion(keyId: string, version: number): KmsKeyVersionRecord | undefined;
  /** A new key with its first version (`first.version` must equal `key.currentVersion`). */
  createKey(key: KmsKeyRecord, first: KmsKeyVersionRecord): MaybeAsync<void>;
  /**
   * Adds `v` as the key's current version (its rotation time `v.created`); 'EntityAlreadyExists'
   * when that version exists (a concurrent rotation), 'NoSuchEntity' when the key does not.
   */
  addVersion(v: KmsKeyVersionRecord): MaybeAsync<KmsKeyRecord>;
  /** Enables or disables the key; returns its new state. 'NoSuchEntity'. */
  setEnabled(keyId: string, enabled: boolean): MaybeAsync<KmsKeyRecord>;
  /** How many key changes were committed (0 before the first), by any process sharing the store: one point read. */
  generation(): number;
  /**
   * The generation as of the current request's arrival at the latest (never older): what a
   * worker's data-key calls check their key states against. A store that checks the database
   * once per request anyway answers it from that check; absent: use generation().
   */
  requestGeneration?(): number;
  /**
   * A store whose reads come from an in-memory snapshot (PostgreSQL): loads it again now. The key
   * service calls it when a data key names a version it does not know yet (another gateway rotated).
   */
  refresh?(): Promise<void>;
}
