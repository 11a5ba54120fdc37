// Who runs the background jobs when several gateways share one metadata store: a leader elector.
// Two implementations: etcd (leader-etcd.ts: a key bound to a lease) and PostgreSQL advisory locks
// (leader-pg.ts: a session lock on one dedicated connection). The job runner (src/jobs/runner.ts)
// takes an elector or, by default (SQLite, one machine), the `jobs` lease row of the metadata store.
// docs/cluster.md, "etcd and the job leader" says which a gateway uses and why.

export interface LeaderElector {
  /**
   * Whether this process leads now. Synchronous and conservative: it turns false before another
   * process can be elected (the lease is counted out locally, or the lock's connection is gone).
   */
  isLeader(): boolean;
  /** Calls `fn` on each change of isLeader(); returns a function that removes it. */
  onChange(fn: (leader: boolean) => void): () => void;
  /** The owner id of the current leader as the coordinator sees it, or undefined (none, or unreachable). */
  leader(): Promise<string | undefined>;
  /**
   * Stops campaigning. By default it resigns (the next leader is elected at once); `resign: false`
   * just goes silent, as a process that dies does (tests: the lease or the connection then expires).
   */
  close(opts?: { resign?: boolean }): Promise<void>;
}

/** The listener list and the transition reporting both electors share. */
export class LeaderState {
  private leading = false;
  private readonly fns = new Set<(leader: boolean) => void>();

  constructor(private readonly log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }) {}

  get value(): boolean {
    return this.leading;
  }

  onChange(fn: (leader: boolean) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }

  /** Sets the state; tells the listeners when it changed. */
  set(leading: boolean, owner: string, why: string): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.log?.info({ owner }, `job leader: this process leads (${why})`);
    else this.log?.warn({ owner }, `job leader: this process no longer leads (${why})`);
    for (const fn of this.fns) {
      try {
        fn(leading);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
