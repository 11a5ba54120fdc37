// Write intents: before a data piece (and its temp file) is created, a row in the metadata store
// says "a write started at T" (coord.ts). The orphan sweep, in whatever process it runs, only takes
// pieces older than the oldest live intent (minus SWEEP_MARGIN_MS, for file-system timestamps that
// lag the clock), so it never mistakes a piece of a write in progress in another process, not yet
// committed, for an orphan. A write renews its intent while it runs; after the data is written
// the intent lasts INTENT_TTL_MS more (time for the metadata commit), or until the commit (or its
// failure) removes it. An intent of a process that died expires.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Coordination } from './coord.js';

export const INTENT_TTL_MS = 120_000;
/** The sweep's cutoff lies this far before the oldest intent (file mtimes come from a coarse clock). */
export const SWEEP_MARGIN_MS = 1000;

export class WriteIntents {
  /** Intents of writes running now (renewed), by intent id. */
  private readonly running = new Set<string>();
  /** Data id → the intent of the write that made it, until commitment. */
  private readonly byData = new Map<string, string>();
  private renewTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly coord: Coordination,
    readonly owner: string,
    private readonly log?: Logger,
  ) {}

  /** Records an intent, runs the write, and remembers the intent under the piece it made. */
  async around<T extends { id: string }>(write: () => Promise<T>): Promise<T> {
    const id = randomUUID();
    const started = Date.now();
    await this.coord.addIntent(id, this.owner, started, INTENT_TTL_MS);
    this.running.add(id);
    this.startRenewing();
    try {
      const ref = await write();
      this.byData.set(ref.id, id);
      return ref;
    } catch (err) {
      // Nothing remains of a failed write.
      void this.coord.removeIntent(id).catch(() => undefined);
      throw err;
    } finally {
      this.running.delete(id);
      // The commit gets at least 3/4 of INTENT_TTL_MS: a write that took longer is renewed once more.
      if (Date.now() - started > INTENT_TTL_MS / 4) void this.coord.renewIntents([id], Date.now(), INTENT_TTL_MS).catch(() => undefined);
    }
  }

  /** The pieces' writes are over (committed, or their commit failed and they were removed). */
  async done(ids: string[]): Promise<void> {
    for (const dataId of ids) {
      const intent = this.byData.get(dataId);
      if (intent === undefined) continue;
      this.byData.delete(dataId);
      await this.coord.removeIntent(intent).catch((err: unknown) => this.log?.warn({ err }, 'could not remove a write intent (it expires)'));
    }
  }

  private startRenewing(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      if (this.running.size === 0) {
        clearInterval(this.renewTimer);
        this.renewTimer = undefined;
        return;
      }
      this.coord.renewIntents([...this.running], Date.now(), INTENT_TTL_MS).catch((err: unknown) => this.log?.warn({ err }, 'could not renew write intents'));
    }, INTENT_TTL_MS / 4);
    this.renewTimer.unref();
  }

  /**
   * Set when this process holds the directory alone (Store.takeOverAlone, before serving): every
   * piece older than this predates every write that can be in flight.
   */
  aloneSince: number | undefined;

  /**
   * Pieces older than this may be swept: no write in progress (in any process) made them. Alone on
   * the directory, also everything older than this process (so orphans of a crash just before a
   * restart go in the first sweep, not 1 s later).
   */
  async sweepCutoff(now = Date.now()): Promise<number> {
    const oldest = await this.coord.oldestIntent(now);
    const byIntents = Math.min(now, oldest ?? now) - SWEEP_MARGIN_MS;
    return this.aloneSince === undefined ? byIntents : Math.max(this.aloneSince, byIntents);
  }

  close(): void {
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }
}
