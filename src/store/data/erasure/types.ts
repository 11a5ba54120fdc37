// The contract between the parts of the erasure-coded data store (issue 16): the coding engine,
// the block checksum, the drive set and the sink of degraded pieces. Each part lives in its own
// module of this folder; this file only names what they promise each other.

/**
 * Reed–Solomon over k data and m parity shards of equal length. Methods may answer synchronously
 * or with a promise (an implementation may run off the event loop): callers always await.
 */
export interface ErasureCodec {
  readonly k: number;
  readonly m: number;
  /** `data`: k shards of equal length L. Answers the m parity shards, each of length L. */
  encode(data: readonly Buffer[]): Buffer[] | Promise<Buffer[]>;
  /**
   * `shards`: k + m entries in shard order, null where missing or corrupt, every present one of the
   * same length; at least k present. Answers all k + m shards (the present ones as given, the
   * missing ones rebuilt). Fewer than k present throws.
   */
  reconstruct(shards: readonly (Buffer | null)[]): Buffer[] | Promise<Buffer[]>;
  /**
   * As reconstruct, but answers only the k data shards (a read needs no parity): missing parity is
   * not rebuilt. Each rebuilt data shard is a buffer of its own from the block pool.
   */
  reconstructData(shards: readonly (Buffer | null)[]): Buffer[] | Promise<Buffer[]>;
}

/** The checksum kept for every block of every shard. */
export interface BlockHash {
  /** Name written in shard headers (so a later choice can still read older shards). */
  readonly name: string;
  /** Digest length in bytes. */
  readonly size: number;
  /** Digest of `data`. */
  digest(data: Buffer): Buffer;
  /** Digest of the bytes of `parts`, one after the other (the same as of their concatenation). */
  digestParts(parts: readonly Buffer[]): Buffer;
}

export type DriveState = 'online' | 'offline' | 'healing';

/** One directory of the set, normally its own disk. */
export interface Drive {
  /** Position in the set (0-based), fixed by the drive's format file. */
  readonly index: number;
  readonly path: string;
  /** The drive's own id from its format file. */
  readonly id: string;
  readonly state: DriveState;
}

/** The drives of one server and the parity rules of its objects. */
export interface DriveSet {
  /** The set's id from the format files. */
  readonly id: string;
  /** In index order; `drives.length` is the set's width (k + m for every object). */
  readonly drives: readonly Drive[];
  /** Parity shards of an object written with the given `x-amz-storage-class` (undefined: STANDARD). */
  parityFor(storageClass?: string): number;
  /**
   * An I/O error met on a drive: the set decides whether it takes the drive offline (EIO, EROFS,
   * ENOSPC, a vanished root…) and probes it until it answers again (service resumes without a restart).
   */
  failed(index: number, err: unknown): void;
  /**
   * The rebuild of drive `index` (state 'healing': an adopted empty drive) is complete: the drive
   * becomes 'online', recorded so that a restart does not rebuild it again (src/jobs/rebuild.ts).
   */
  healed(index: number): Promise<void>;
  /**
   * Brings this process's view of the drive states up to date with the changes the server's other
   * processes recorded (several workers: drives.ts share()); absent or a no-op with one process.
   */
  sync?(): Promise<void>;
}

/** Why a shard needs healing. */
export type DegradedReason = 'missing' | 'corrupt' | 'write-failed';

/** Where the erasure store reports pieces whose shards need healing (persisted by the heal queue). */
export interface DegradedSink {
  degraded(pieceId: string, drives: readonly number[], reason: DegradedReason): void;
}

/** What one piece's shards look like after reading and checking every one of them. */
export interface PieceCheck {
  /** Shard indexes (= drive indexes) whose shard is missing, truncated or fails a block checksum. */
  readonly bad: readonly number[];
  /** Bytes read to check it (for the scrub's rate limit). */
  readonly bytesRead: number;
}

/** What the scrub and heal jobs ask of the erasure store (the store implements it). */
export interface ErasureMaintenance {
  readonly drives: DriveSet;
  /** Reads and checks every shard of `pieceId`. A piece that no longer exists answers `undefined`. */
  verifyPiece(pieceId: string, signal?: AbortSignal): Promise<PieceCheck | undefined>;
  /**
   * Rebuilds the bad shards of `pieceId` from the healthy ones onto their drives (written and
   * synced like any shard). Answers the drives healed and the bytes written; `undefined` when the
   * piece no longer exists. Fewer than k healthy shards throws.
   */
  healPiece(pieceId: string, signal?: AbortSignal): Promise<{ healed: readonly number[]; bytesWritten: number } | undefined>;
  /**
   * Ids of the pieces with a shard on drive `index` or on any drive (input of scrub and of a drive
   * rebuild), each once, in ascending order (string comparison): the jobs persist the last id done
   * as their cursor and resume after it. With `after`, only ids greater than it.
   */
  pieceIds(index?: number, after?: string): AsyncIterable<string>;
}
