// Coordination between processes that share one metadata store and data directory: leases (the
// per-upload lock, the jobs runner's lease), write intents, pending frees and read pins. Rows in
// the metadata store, never in process memory, so every rule holds across processes
// (docs/ARCHITECTURE.md, "What lives where"). None of these rows needs to survive a crash: a lost
// lease or intent just expires, a lost pending free leaves an orphan for the sweep.

/**
 * Implemented by each MetaStore (sqlite-coord.ts; the in-memory store is SQLite too). Times are
 * wall-clock milliseconds (Date.now()) given by the caller: the processes share one host clock.
 * Every method is one small transaction; none waits for another process inside the engine.
 */
export interface Coordination {
  /**
   * Takes the named lease for `owner` until `now + ttlMs` if it is free, expired, or already
   * `owner`'s (then it is renewed). True when `owner` holds it afterwards.
   */
  tryLease(name: string, owner: string, now: number, ttlMs: number): Promise<boolean>;
  /** Drops the lease if `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /** The holder of a live lease, if any (tests, diagnostics). */
  leaseHolder(name: string, now: number): Promise<string | undefined>;

  /**
   * The caller holds the data directory alone (an exclusive start): removes every lease, write
   * intent and read pin, all left by processes that are gone. Pending frees stay (takeDueFrees).
   */
  clearProcesses(): Promise<void>;

  /** Records that a write starting at `now` may create data pieces (and temp files) from now on. */
  addIntent(id: string, owner: string, now: number, ttlMs: number): Promise<void>;
  /** Pushes the expiry of live intents to `now + ttlMs` (a long write renews its own). */
  renewIntents(ids: string[], now: number, ttlMs: number): Promise<void>;
  removeIntent(id: string): Promise<void>;
  /**
   * The start of the oldest intent not yet expired at `now`; undefined when none. Pieces created
   * after it may belong to a write in progress somewhere: the orphan sweep leaves them alone.
   */
  oldestIntent(now: number): Promise<number | undefined>;

  /** Records pieces to unlink once no reader can still be reading them (kept: an earlier time). */
  addPendingFrees(ids: string[], now: number): Promise<void>;
  /**
   * Takes (removes from the table and returns) up to `limit` pending frees recorded at or before
   * `dueBefore`, that no live read pin (expiry > now) holds and nothing references any more
   * (object version or upload part), and for which `keep(id)` is false (this process's own
   * readers). The caller unlinks them. A pending free that is referenced again is dropped.
   */
  takeDueFrees(dueBefore: number, now: number, limit: number, keep: (id: string) => boolean): Promise<string[]>;
  /** How many pending frees exist (tests, diagnostics). */
  pendingFrees(): Promise<number>;

  /** Adds or renews a read pin `pinId` on the pieces until `expiresAt`. */
  pin(pinId: string, ids: string[], expiresAt: number): Promise<void>;
  unpin(pinId: string): Promise<void>;
}
