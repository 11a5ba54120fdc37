// Change notices through etcd: a writer of shared state that every gateway caches (identities, KMS keys,
// bucket configurations) calls publishChange('identity'), which puts `/strata/changes/identity`; every
// gateway watches the prefix and calls its onChange hooks with 'identity' (the PostgreSQL sub-stores
// reload their snapshots). The watch resumes after an outage from the revision it had seen; after a
// reconnection the hooks are also called once for each kind of change known, in case one was missed.
// The PostgreSQL LISTEN and the generation poll stay the fallback when etcd is away.
import type { Etcd3, Watcher } from 'etcd3';

export const CHANGES_PREFIX = '/strata/changes/';

/** A kind of change: a short name (identity, kms, bucket-config…). */
const WHAT = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class EtcdChanges {
  private readonly fns = new Set<(what: string) => void>();
  private watcher: Watcher | undefined;
  private closed = false;
  private starting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private disconnected = false;

  constructor(
    private readonly client: Etcd3,
    private readonly o: { source: string; log?: { warn(obj: object, msg: string): void } },
  ) {}

  /** Tells every gateway (this one too) that `what` changed. Rejects when etcd cannot be reached. */
  async publishChange(what: string): Promise<void> {
    if (!WHAT.test(what)) throw new Error(`invalid change name ${JSON.stringify(what)}`);
    await this.client
      .put(CHANGES_PREFIX + what)
      .value(JSON.stringify({ by: this.o.source, at: new Date().toISOString() }))
      .options({ deadline: Date.now() + 3000 })
      .exec();
  }

  /**
   * Calls `fn(what)` for each change published from now on (by any gateway); returns a function that
   * removes it. The watch starts with the first hook, in the background (ready() waits for it).
   */
  onChange(fn: (what: string) => void): () => void {
    this.fns.add(fn);
    void this.start();
    return () => this.fns.delete(fn);
  }

  /** Resolves once the watch is established, or its first attempt failed (then retried in the background). */
  async ready(): Promise<void> {
    await this.start();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    await this.starting;
    await this.watcher?.cancel().catch(() => undefined);
    this.watcher = undefined;
  }

  private tell(what: string): void {
    for (const fn of this.fns) {
      try {
        fn(what);
      } catch (err) {
        this.o.log?.warn({ err: String(err), what }, 'change hook failed');
      }
    }
  }

  private start(): Promise<void> {
    if (this.watcher || this.closed) return Promise.resolve();
    this.starting ??= (async () => {
      try {
        const w = await this.client.watch().prefix(CHANGES_PREFIX).create();
        if (this.closed) {
          await w.cancel().catch(() => undefined);
          return;
        }
        this.watcher = w;
        w.on('put', (kv) => this.tell(kv.key.toString().slice(CHANGES_PREFIX.length)));
        w.on('disconnected', () => {
          this.disconnected = true;
        });
        w.on('connected', () => {
          if (this.disconnected) {
            this.disconnected = false;
            void this.replay();
          }
        });
        w.on('error', (err) => {
          this.o.log?.warn({ err: String(err) }, 'etcd change watch failed: starting it again');
          this.watcher = undefined;
          void w.cancel().catch(() => undefined);
          this.later();
        });
      } catch (err) {
        this.o.log?.warn({ err: String(err) }, 'etcd change watch: cannot start (retrying)');
        this.later();
      }
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private later(): void {
    if (this.closed) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      void this.start().then(() => this.replay());
    }, 1000);
  }

  /** After a gap: every kind of change known is told once (a reload costs little; a missed one, stale caches). */
  private async replay(): Promise<void> {
    try {
      const keys = await this.client
        .getAll()
        .prefix(CHANGES_PREFIX)
        .options({ deadline: Date.now() + 3000 })
        .keys();
      for (const k of keys) this.tell(k.slice(CHANGES_PREFIX.length));
    } catch {
      // etcd away again: the next reconnection replays
    }
  }
}
