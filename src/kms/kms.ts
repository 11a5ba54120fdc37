// The key service (KMS) behind SSE-S3 and SSE-KMS: master keys that wrap and unwrap each object's
// data key. The s3 layer (s3/sse.ts) asks it for a fresh data key when it writes an encrypted object
// and for the plain data key again when it reads one; it never sees master-key material. The
// built-in backend (builtin.ts) keeps its master keys in the metadata store, sealed under a root key
// the operator supplies (docs/encryption.md). Failures are KmsError with AWS KMS's exception names,
// mapped to S3 errors by s3/sse.ts: a key that is missing, disabled or whose material does not open
// fails the request (fails closed), never yields wrong bytes.

/** A fresh data key: its plaintext (32 bytes, for AES-256) and its ciphertext (stored with the object). */
export interface DataKey {
  /** The master key that wrapped it (its id as the service names it, not an ARN). */
  keyId: string;
  plaintext: Buffer;
  /** Opaque to the caller; names the master key's version inside, so rotation keeps it readable. */
  ciphertext: Buffer;
}

/** A master key as the admin API and `strata admin kms` show it (never its material). */
export interface KeyInfo {
  keyId: string;
  enabled: boolean;
  /** ms since the epoch. */
  createdAt: number;
  /** The version new data keys are wrapped with; older versions keep unwrapping. */
  currentVersion: number;
  /** ms since the epoch of the last rotation (creation when never rotated). */
  rotatedAt: number;
  /** The service's default key (SSE-S3, and SSE-KMS without a key id). */
  isDefault: boolean;
}

export type KmsErrorCode =
  /** No master key by that id. */
  | 'NotFoundException'
  /** The master key exists but is disabled: it neither wraps nor unwraps. */
  | 'DisabledException'
  /** A data key's ciphertext does not open: damaged, another context, another key, unknown version. */
  | 'InvalidCiphertextException'
  /** createKey of an id that exists. */
  | 'AlreadyExistsException'
  /** A key id that is not well formed, a context too large… */
  | 'ValidationException'
  /** The service's own material cannot be read (wrong or missing root key): fails closed. */
  | 'KMSInternalException';

export class KmsError extends Error {
  constructor(
    readonly code: KmsErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KmsError';
  }
}

/**
 * The key service. `context` is the encryption context (SSE-KMS's x-amz-server-side-encryption-
 * context plus S3's own `aws:s3:arn`): it is bound to the data key's ciphertext, so unwrapping needs
 * the same context (compared as a set of pairs, order-free).
 */
export interface KeyService {
  /** The default master key's id: SSE-S3 and SSE-KMS without a key id use it. It exists once the service is open. */
  readonly defaultKeyId: string;
  /** A new data key under `keyId`'s current version. NotFoundException, DisabledException. */
  generateDataKey(keyId: string, context: Readonly<Record<string, string>>): Promise<DataKey>;
  /** The plaintext of a DataKey's ciphertext. NotFoundException, DisabledException, InvalidCiphertextException. */
  decryptDataKey(keyId: string, ciphertext: Buffer, context: Readonly<Record<string, string>>): Promise<Buffer>;

  // ---- administration (admin API, `strata admin kms …`) ----
  /** A new master key (random material). AlreadyExistsException, ValidationException. */
  createKey(keyId: string): Promise<KeyInfo>;
  /** NotFoundException. */
  describeKey(keyId: string): Promise<KeyInfo>;
  listKeys(): Promise<KeyInfo[]>;
  /** New material as the current version; data keys wrapped before keep unwrapping. NotFoundException, DisabledException. */
  rotateKey(keyId: string): Promise<KeyInfo>;
  /** Disable or enable; the default key may be disabled too (then SSE-S3 writes fail). NotFoundException. */
  setKeyEnabled(keyId: string, enabled: boolean): Promise<KeyInfo>;
}
