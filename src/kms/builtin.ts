// The built-in key service (KeyService, kms.ts): master keys in the metadata store (format 9,
// store/kms-keys.ts), each version's material sealed with AES-256-GCM under a key HKDF-derived from
// the operator's root key (--kms-secret-key, MinIO's `NAME:BASE64`). The default key NAME needs
// nothing stored to be read: its first version is derived from the root key (docs/encryption.md,
// "Key service"), so the root key alone recovers what SSE-S3 wrapped under it.
//
// Data keys: 32 random bytes, wrapped with AES-256-GCM under a master key version's material. Their
// ciphertext (DATA_KEY_BYTES): format (1 byte, 1) | key version (uint32 BE) | IV (12) | sealed key (32)
// | tag (16); associated data: those first 5 bytes, the key id and the canonical encryption context
// (its pairs sorted by name), so another key, another context, another version or a flipped byte
// does not open (InvalidCiphertextException), never yields other bytes.
//
// Per data-key call: a point read of the key generation (a `meta` row every key change bumps, in
// whichever process) at most once a second (STATE_RECHECK_MS; every call with recheckMs 0). The
// workers of a cluster and --shared servers open it with `perRequest`: every data-key call checks
// the generation as of its request's arrival, which the metadata store reads with its per-request
// check for other processes' commits (KmsKeyStore.requestGeneration: no read of its own). The key
// states read since the generation last moved are reused, else the key's row is read again. So a disable or a rotation by another process sharing
// the data directory takes effect within a second (at once for administration and in the process
// that made it). The unsealed material of each (key, version) is cached in memory (it never changes once
// written), and so are the last unwrapped data keys (by their exact ciphertext; a hit needs the same key
// id and context pairs it was unwrapped with).
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { StoreError } from '../store/errors.js';
import type { KmsKeyRecord, KmsKeyStore, KmsKeyVersionRecord } from '../store/kms-keys.js';
import { isKeyId } from './arn.js';
import { type DataKey, type KeyInfo, KmsError, type KeyService } from './kms.js';
import { pooledRandom } from './random.js';

/** The operator's root key: NAME (the default key's id) and 32 bytes. */
export interface RootKey {
  readonly name: string;
  readonly key: Buffer;
}

/** Where the service reports material it cannot open (the server's logger). */
export interface KmsLog {
  error(obj: object, msg: string): void;
}

const SALT = 'strata-kms';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const DATA_KEY_FORMAT = 1;
/** format (1) + key version (4). */
const HEADER_BYTES = 5;
/** The length of a data key's ciphertext (format 1). */
export const DATA_KEY_BYTES = HEADER_BYTES + IV_BYTES + KEY_BYTES + TAG_BYTES;
/** AWS KMS bounds an encryption context at 8192 characters. */
const MAX_CONTEXT_CHARS = 8192;
/** Attempts of a rotation that lost a race with another process's rotation. */
const ROTATE_ATTEMPTS = 3;
/** How long data-key calls trust the key states they hold before looking at the key generation again (ms). */
const STATE_RECHECK_MS = 1000;
/** Unwrapped data keys kept (32 bytes each, plus their cache key): the objects read most recently. */
const UNWRAPPED_MAX = 4096;

const hkdf = (material: Buffer, info: string): Buffer => Buffer.from(hkdfSync('sha256', material, SALT, info, KEY_BYTES));
const versionAad = (keyId: string, version: number): Buffer => Buffer.from(`strata-kms master key\0${keyId}\0${version}`, 'utf8');

function seal(key: Buffer, plain: Buffer, aad: Buffer): Buffer {
  const iv = pooledRandom(IV_BYTES);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aad);
  return Buffer.concat([iv, c.update(plain), c.final(), c.getAuthTag()]);
}

/** The plain bytes, or undefined when the tag does not check (another key, other associated data, damage). */
function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([d.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), d.final()]);
  } catch {
    return undefined;
  }
}

/**
 * The encryption context as bound to a data key: its pairs sorted by name (order-free), as JSON (no
 * ambiguity between names and values). ValidationException for a value that is not a string or a
 * context over AWS's 8192 characters.
 */
export function canonicalContext(context: Readonly<Record<string, string>>): string {
  const names = Object.keys(context);
  if (names.length === 1) {
    // S3's own context alone (aws:s3:arn): nothing to sort.
    const k = names[0]!;
    const v = context[k];
    if (typeof v !== 'string') throw new KmsError('ValidationException', `The encryption context value of ${k} is not a string.`);
    if (k.length + v.length > MAX_CONTEXT_CHARS)
      throw new KmsError('ValidationException', `The encryption context is longer than ${MAX_CONTEXT_CHARS} characters.`);
    return JSON.stringify([[k, v]]);
  }
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let chars = 0;
  for (const [k, v] of pairs) {
    if (typeof v !== 'string') throw new KmsError('ValidationException', `The encryption context value of ${k} is not a string.`);
    chars += k.length + v.length;
  }
  if (chars > MAX_CONTEXT_CHARS) throw new KmsError('ValidationException', `The encryption context is longer than ${MAX_CONTEXT_CHARS} characters.`);
  return JSON.stringify(pairs);
}

export class BuiltinKeyService implements KeyService {
  readonly defaultKeyId: string;
  /** The root key's fingerprint (stored with each version it seals): names it, reveals nothing. */
  readonly rootKeyId: string;
  /** Seals master key material. */
  private readonly sealKey: Buffer;
  /** Derives the material of versions stored without any (the default key's first). */
  private readonly deriveKey: Buffer;
  /** Unsealed material by `keyId \n version`. */
  private readonly materials = new Map<string, Buffer>();
  /** (key, version)s already reported as unreadable: one log line each, not one per request. */
  private readonly reported = new Set<string>();
  /** Key states read at key generation `statesAt`. */
  private readonly states = new Map<string, KmsKeyRecord>();
  private statesAt = -1;
  /** When the key generation was last looked at (this.now()). */
  private checkedAt = Number.NEGATIVE_INFINITY;
  /** Recently unwrapped data keys by their ciphertext (latin1), with the key id and context that unwrapped them (at most UNWRAPPED_MAX). */
  private readonly unwrapped = new Map<string, Unwrapped>();

  private constructor(
    private readonly keys: KmsKeyStore,
    root: RootKey,
    private readonly log: KmsLog | undefined,
    private readonly now: () => number,
    /** How long data-key calls trust the key states they hold (STATE_RECHECK_MS; 0: look every call). */
    private readonly recheckMs: number,
    /** Data-key calls look at the generation as of their request's arrival (requestGeneration), not read now. */
    private readonly perRequest: boolean,
  ) {
    if (root.key.length !== KEY_BYTES || !isKeyId(root.name)) throw new Error('the KMS root key must be a key id and 32 bytes');
    this.defaultKeyId = root.name;
    this.sealKey = hkdf(root.key, 'master key seal v1');
    this.deriveKey = hkdf(root.key, 'master key derivation v1');
    this.rootKeyId = `kms1:${createHmac('sha256', this.sealKey).update('strata kms root key id').digest('hex').slice(0, 16)}`;
  }

  /**
   * Opens the service over the store's key tables: creates the default key (NAME of the root key)
   * when it does not exist, and logs every key whose current version this root key cannot open.
   */
  static async open(
    keys: KmsKeyStore,
    root: RootKey,
    opts: { log?: KmsLog; now?: () => number; recheckMs?: number; perRequest?: boolean } = {},
  ): Promise<BuiltinKeyService> {
    const perRequest = opts.perRequest === true;
    const svc = new BuiltinKeyService(keys, root, opts.log, opts.now ?? Date.now, perRequest ? 0 : (opts.recheckMs ?? STATE_RECHECK_MS), perRequest);
    if (keys.getKey(svc.defaultKeyId) === undefined) {
      const t = svc.now();
      try {
        // No material stored: derived from the root key (material()).
        await keys.createKey(
          { keyId: svc.defaultKeyId, enabled: true, created: t, currentVersion: 1, rotated: t },
          { keyId: svc.defaultKeyId, version: 1, created: t, rootKeyId: svc.rootKeyId },
        );
      } catch (err) {
        // Another process sharing the directory made it first.
        if (!(err instanceof StoreError && err.code === 'EntityAlreadyExists')) throw err;
      }
    }
    for (const k of keys.listKeys()) {
      try {
        svc.material(k.keyId, k.currentVersion);
      } catch (err) {
        if (!(err instanceof KmsError)) throw err; // logged by material()
      }
    }
    return svc;
  }

  async generateDataKey(keyId: string, context: Readonly<Record<string, string>>): Promise<DataKey> {
    const ctx = canonicalContext(context);
    const key = this.usableKey(keyId, false);
    const material = this.material(keyId, key.currentVersion);
    if (material === undefined) throw this.internal(keyId, key.currentVersion, 'its current version is missing from the metadata store');
    const plaintext = pooledRandom(KEY_BYTES);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = DATA_KEY_FORMAT;
    header.writeUInt32BE(key.currentVersion, 1);
    const sealed = seal(material, plaintext, dataKeyAad(header, keyId, ctx));
    return { keyId, plaintext, ciphertext: Buffer.concat([header, sealed]) };
  }

  async decryptDataKey(keyId: string, ciphertext: Buffer, context: Readonly<Record<string, string>>): Promise<Buffer> {
    let key = this.usableKey(keyId, false);
    const bad = () => new KmsError('InvalidCiphertextException', 'The data key ciphertext cannot be decrypted with this key and encryption context.');
    if (ciphertext.length !== DATA_KEY_BYTES || ciphertext[0] !== DATA_KEY_FORMAT) throw bad();
    const version = ciphertext.readUInt32BE(1);
    // A version newer than the state this process holds: another process rotated within the last second.
    if (version > key.currentVersion) key = this.usableKey(keyId, true);
    // A store that serves its reads from a snapshot (PostgreSQL) may not hold that rotation yet: load it once.
    if (version > key.currentVersion && this.keys.refresh !== undefined) {
      await this.keys.refresh();
      key = this.usableKey(keyId, true);
    }
    if (version < 1 || version > key.currentVersion) throw bad();
    // The same inputs always unwrap to the same bytes: a data key unwrapped before is not unwrapped
    // again. Found by its exact ciphertext, then the key id and every context pair compared with
    // those it was unwrapped with (cheaper than the canonical form: nothing built per call).
    const cacheKey = ciphertext.toString('latin1');
    const cached = this.unwrapped.get(cacheKey);
    if (cached !== undefined && cached.keyId === keyId && sameContext(cached.context, context)) return Buffer.from(cached.plain);
    const ctx = canonicalContext(context);
    const material = this.material(keyId, version);
    if (material === undefined) throw bad();
    const plain = open(material, ciphertext.subarray(HEADER_BYTES), dataKeyAad(ciphertext.subarray(0, HEADER_BYTES), keyId, ctx));
    if (plain === undefined) throw bad();
    if (cached !== undefined) this.unwrapped.delete(cacheKey);
    else if (this.unwrapped.size >= UNWRAPPED_MAX) this.unwrapped.delete(this.unwrapped.keys().next().value!);
    this.unwrapped.set(cacheKey, { keyId, context: new Map(Object.entries(context)), plain: Buffer.from(plain) });
    return plain;
  }

  async createKey(keyId: string): Promise<KeyInfo> {
    if (typeof keyId !== 'string' || !isKeyId(keyId))
      throw new KmsError('ValidationException', 'A key id is 1-64 characters of A-Z a-z 0-9 _ . - starting with a letter or digit.');
    const t = this.now();
    const record: KmsKeyRecord = { keyId, enabled: true, created: t, currentVersion: 1, rotated: t };
    try {
      await this.keys.createKey(record, this.newVersion(keyId, 1, t));
      this.checkedAt = Number.NEGATIVE_INFINITY; // seen by this process's next data-key call
    } catch (err) {
      if (err instanceof StoreError && err.code === 'EntityAlreadyExists') throw new KmsError('AlreadyExistsException', `Key '${keyId}' already exists.`);
      throw err;
    }
    return this.info(record);
  }

  async describeKey(keyId: string): Promise<KeyInfo> {
    return this.info(this.stateOf(keyId));
  }

  async listKeys(): Promise<KeyInfo[]> {
    return this.keys.listKeys().map((k) => this.info(k));
  }

  async rotateKey(keyId: string): Promise<KeyInfo> {
    for (let attempt = 1; ; attempt++) {
      const key = this.usableKey(keyId);
      const version = key.currentVersion + 1;
      try {
        const rotated = await this.keys.addVersion(this.newVersion(keyId, version, this.now()));
        this.checkedAt = Number.NEGATIVE_INFINITY;
        return this.info(rotated);
      } catch (err) {
        // Another process rotated between our read and our write: rotate from its version.
        if (err instanceof StoreError && err.code === 'EntityAlreadyExists' && attempt < ROTATE_ATTEMPTS) continue;
        throw notFoundOf(err);
      }
    }
  }

  async setKeyEnabled(keyId: string, enabled: boolean): Promise<KeyInfo> {
    try {
      const changed = await this.keys.setEnabled(keyId, enabled);
      this.checkedAt = Number.NEGATIVE_INFINITY;
      return this.info(changed);
    } catch (err) {
      throw notFoundOf(err);
    }
  }

  /** A new version of fresh random material, sealed under the root key with the key id and version bound. */
  private newVersion(keyId: string, version: number, created: number): KmsKeyVersionRecord {
    const material = randomBytes(KEY_BYTES);
    const sealed = seal(this.sealKey, material, versionAad(keyId, version));
    this.materials.set(`${keyId}\n${version}`, material);
    return { keyId, version, created, rootKeyId: this.rootKeyId, sealed };
  }

  /**
   * The key's current state: from memory while the key generation has not moved, else read again.
   * Data-key calls (`fresh` false) look at the generation at most every STATE_RECHECK_MS: a change
   * made by another process sharing the data directory reaches them within that second (AWS KMS
   * documents key state changes as eventually consistent too), which saves a metadata read (two
   * system calls) per encrypted GET and PUT. Changes made here, and administration, are seen at once.
   * The workers of one server (and --shared servers) open the service with `perRequest`: a data-key
   * call compares with the generation as of its request's arrival (requestGeneration, read with the
   * metadata store's per-request check), so a key disabled through one worker is refused by every
   * worker from its next request on.
   */
  private stateOf(keyId: string, fresh = true): KmsKeyRecord {
    const t = this.now();
    if (fresh || t - this.checkedAt >= this.recheckMs) {
      this.checkedAt = t;
      const generation = !fresh && this.perRequest && this.keys.requestGeneration !== undefined ? this.keys.requestGeneration() : this.keys.generation();
      if (generation !== this.statesAt) {
        this.states.clear();
        this.statesAt = generation;
      }
    }
    let key = this.states.get(keyId);
    if (key === undefined && typeof keyId === 'string') {
      key = this.keys.getKey(keyId);
      if (key !== undefined) this.states.set(keyId, key);
    }
    if (key === undefined) throw new KmsError('NotFoundException', `Key '${keyId}' does not exist.`);
    return key;
  }

  /** The key's state when it exists and is enabled (AWS: a disabled key neither wraps nor unwraps). */
  private usableKey(keyId: string, fresh = true): KmsKeyRecord {
    let key = this.stateOf(keyId, fresh);
    // Held as disabled: look again before refusing (an enable elsewhere counts at once).
    if (!key.enabled && !fresh) key = this.stateOf(keyId, true);
    if (!key.enabled) throw new KmsError('DisabledException', `Key '${keyId}' is disabled.`);
    return key;
  }

  /**
   * The plain material of a key version (cached), undefined when no such version is stored.
   * KMSInternalException (logged once) when the root key does not open it: another root key
   * sealed it, or its row is damaged.
   */
  private material(keyId: string, version: number): Buffer | undefined {
    const cacheKey = `${keyId}\n${version}`;
    const cached = this.materials.get(cacheKey);
    if (cached !== undefined) return cached;
    const row = this.keys.getVersion(keyId, version);
    if (row === undefined) return undefined;
    if (row.rootKeyId !== this.rootKeyId)
      throw this.internal(
        keyId,
        version,
        `it was sealed under root key ${row.rootKeyId} but this server's --kms-secret-key is ${this.rootKeyId}: start the server with the root key that created it`,
      );
    const material = row.sealed === undefined ? hkdf(this.deriveKey, `${keyId}\0${version}`) : open(this.sealKey, row.sealed, versionAad(keyId, version));
    if (material === undefined || material.length !== KEY_BYTES)
      throw this.internal(keyId, version, 'its sealed material does not open under this root key (damaged, or changed outside Strata)');
    this.materials.set(cacheKey, material);
    return material;
  }

  private internal(keyId: string, version: number, why: string): KmsError {
    const message = `KMS master key '${keyId}' version ${version} cannot be read: ${why}.`;
    const once = `${keyId}\n${version}`;
    if (!this.reported.has(once)) {
      this.reported.add(once);
      this.log?.error({ keyId, version, rootKeyId: this.rootKeyId }, message);
    }
    return new KmsError('KMSInternalException', message);
  }

  private info(k: KmsKeyRecord): KeyInfo {
    return {
      keyId: k.keyId,
      enabled: k.enabled,
      createdAt: k.created,
      currentVersion: k.currentVersion,
      rotatedAt: k.rotated,
      isDefault: k.keyId === this.defaultKeyId,
    };
  }
}

/** A data key unwrapped before: the key id and encryption context its ciphertext opened under, and its bytes. */
interface Unwrapped {
  readonly keyId: string;
  readonly context: ReadonlyMap<string, string>;
  readonly plain: Buffer;
}

/** The same pairs (in any order): what the canonical forms compare, without building them. */
function sameContext(known: ReadonlyMap<string, string>, given: Readonly<Record<string, string>>): boolean {
  let n = 0;
  for (const name in given) {
    if (!Object.hasOwn(given, name) || known.get(name) !== given[name]) return false;
    n++;
  }
  return n === known.size;
}

function dataKeyAad(header: Buffer, keyId: string, canonical: string): Buffer {
  return Buffer.concat([header, Buffer.from(`strata-kms data key\0${keyId}\0${canonical}`, 'utf8')]);
}

function notFoundOf(err: unknown): unknown {
  return err instanceof StoreError && err.code === 'NoSuchEntity' ? new KmsError('NotFoundException', err.message) : err;
}
