// The background job runner: one per data directory, whatever the number of server processes.
// main starts it with an AbortSignal and awaits it at shutdown. Each round, the process that holds
// the `jobs` lease in the metadata store (taken and renewed here) — or that a leader elector names
// (src/cluster/leader.ts: etcd, PostgreSQL advisory locks) — runs the jobs that are due, each as a
// sequence of bounded steps with a turn of the event loop between them, so requests are never kept
// waiting by background work; the other processes only retry the lease.
import type { LeaderElector } from '../cluster/leader.js';

/** A background job (jobs.ts has the orphan sweep, the free reaper and the stale-upload cleanup). */
export interface Job {
  name: string;
  /** Time between the end of one round of the job and the start of the next. */
  intervalMs: number;
  /** Does one bounded batch of work; resolves true when the round has more to do. `count`: the items it handled (metrics). */
  step(signal: AbortSignal, count?: (items: number) => void): Promise<boolean>;
}

/** Told of each step and round of the jobs this runner runs (src/metrics/recorder.ts: job runs and items). */
export interface JobObserver {
  step(job: string, items: number): void;
  round(job: string, r: { ok: boolean; items: number; endedAt: number; nextRun: number }): void;
}

/** Where the lease lives (the Store façade). */
export interface LeaseSource {
  tryLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  releaseLease(name: string, owner: string): Promise<void>;
}

export interface RunnerOptions {
  /** The lease row of the metadata store (the default: SQLite, one machine); or give `elector`. */
  leases?: LeaseSource;
  /** Who leads, decided elsewhere (etcd, PostgreSQL advisory locks); its owner closes it, not the runner. */
  elector?: LeaderElector;
  owner: string;
  jobs: Job[];
  /** Name of the lease (default 'jobs'). */
  leaseName?: string;
  /** Lease time; renewed every third of it while jobs run (default 30 s). */
  leaseMs?: number;
  /** How often the runner wakes to take the lease and look for due jobs (default 1 s). */
  tickMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** Before each step (main.ts: the store's reads then see other processes' commits). */
  beforeStep?: () => void;
  observer?: JobObserver;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class JobRunner {
  private readonly leaseName: string;
  private readonly leaseMs: number;
  private readonly tickMs: number;
  private readonly nextRun = new Map<string, number>();
  private held = false;
  private renewedAt = 0;
  /** Steps run so far, by job name (tests, diagnostics). */
  readonly steps = new Map<string, number>();

  constructor(private readonly o: RunnerOptions) {
    this.leaseName = o.leaseName ?? 'jobs';
    this.leaseMs = o.leaseMs ?? 30_000;
    this.tickMs = o.tickMs ?? 1000;
    if ((o.leases === undefined) === (o.elector === undefined)) throw new Error('JobRunner: give either leases or an elector');
  }

  /** Whether this runner held the lease at its last attempt. */
  get leader(): boolean {
    return this.held;
  }

  /** Runs until `signal` aborts; then releases the lease and resolves (never rejects). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (await this.renew()) {
        for (const job of this.o.jobs) {
          if (signal.aborted || !this.held || this.o.elector?.isLeader() === false) break;
          if ((this.nextRun.get(job.name) ?? 0) > Date.now()) continue;
          await this.runRound(job, signal);
          this.nextRun.set(job.name, Date.now() + job.intervalMs);
        }
      }
      await pause(this.tickMs, signal);
    }
    if (this.held) {
      this.held = false;
      await this.o.leases?.releaseLease(this.leaseName, this.o.owner).catch(() => undefined);
    }
  }

  /** Takes or renews the lease; false when another runner holds it (or the store fails). */
  private async renew(): Promise<boolean> {
    try {
      const was = this.held;
      // An elector answers at once (and turns false before another process can lead).
      this.held = this.o.elector ? this.o.elector.isLeader() : await this.o.leases!.tryLease(this.leaseName, this.o.owner, this.leaseMs);
      if (this.held) this.renewedAt = Date.now();
      if (this.held && !was) this.o.log?.info({ owner: this.o.owner }, 'background jobs: this process runs them');
    } catch (err) {
      this.held = false;
      this.o.log?.warn({ err }, 'background jobs: could not take the lease');
    }
    return this.held;
  }

  private async runRound(job: Job, stop: AbortSignal): Promise<void> {
    // With an elector, the step in flight is also told (its signal aborts) the moment leadership ends.
    const lost = new AbortController();
    const off = this.o.elector?.onChange((leading) => {
      if (!leading) lost.abort();
    });
    const signal = off ? AbortSignal.any([stop, lost.signal]) : stop;
    let items = 0;
    let ok = true;
    let stepItems = 0;
    const count = (n: number): void => {
      stepItems += n;
    };
    try {
      for (;;) {
        if (signal.aborted) return;
        this.o.beforeStep?.();
        stepItems = 0;
        let more: boolean;
        try {
          more = await job.step(signal, count);
        } finally {
          // A step that failed still counts what it handled before.
          items += stepItems;
          this.o.observer?.step(job.name, stepItems);
        }
        this.steps.set(job.name, (this.steps.get(job.name) ?? 0) + 1);
        if (!more) return;
        // Between batches: requests run first, and a lease that is getting old is renewed (an elector is asked each time).
        await yieldToLoop();
        if ((this.o.elector || Date.now() - this.renewedAt > this.leaseMs / 3) && !(await this.renew())) return;
      }
    } catch (err) {
      ok = false;
      this.o.log?.warn({ err, job: job.name }, 'background job failed (retried at its next round)');
    } finally {
      off?.();
      const now = Date.now();
      this.o.observer?.round(job.name, { ok, items, endedAt: now, nextRun: now + job.intervalMs });
    }
  }
}
