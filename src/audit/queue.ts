// The delivery queue of one audit target (the file, the webhook): a bounded in-memory queue of
// record lines, handed to the target in batches, one batch in flight at a time, retried with
// exponential backoff until the target takes it. Pushing never waits and never throws: when the
// queue is full the OLDEST queued record is dropped, counted, and a log line says so (at most one
// per DROP_LOG_EVERY_MS). Order is kept: a batch that failed is retried before anything newer.

/** What the queue logs with (pino's Logger fits). */
export interface QueueLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A target refused part of a batch: the first `delivered` lines are in, the rest are to be retried. */
export class PartialDelivery extends Error {
  constructor(
    readonly delivered: number,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

export interface DeliveryOptions {
  /** The target's name in log lines (`file`, `webhook`). */
  name: string;
  /** Records queued at most (not counting the batch in flight). */
  maxQueued: number;
  /** Records per batch at most. */
  maxBatch: number;
  /** Delivers a batch (lines, each ending in \n); rejects to have it retried (PartialDelivery: its tail only). */
  send: (lines: string[]) => Promise<void>;
  log: QueueLog;
  /**
   * A batch short of maxBatch waits this long for more records before it goes (fewer, larger writes
   * or POSTs: each costs far more than a record); not while draining. Default 0.
   */
  lingerMs?: number;
  /** Backoff after a failure: first wait, doubled per failure up to the last. */
  retryFirstMs?: number;
  retryMaxMs?: number;
}

const DROP_LOG_EVERY_MS = 10_000;
const FAIL_LOG_EVERY_MS = 10_000;
/** The longest wait between attempts while the queue is being drained (shutdown). */
const DRAIN_RETRY_MS = 200;

export class DeliveryQueue {
  /** Queued lines: `items[head…]` (a moving head, so taking a batch does not copy the rest). */
  private items: string[] = [];
  private head = 0;
  private inFlight: string[] = [];
  private running = false;
  private waitTimer: NodeJS.Timeout | undefined;
  /** Ends the current wait (linger or backoff) at once: drain() calls it. */
  private wake: (() => void) | undefined;
  private failures = 0;
  private lastDropLog = 0;
  private lastFailLog = 0;
  private idleWaiters: Array<() => void> = [];
  /** Records dropped because the queue was full. */
  dropped = 0;
  /** Records the target took. */
  delivered = 0;

  constructor(private readonly opts: DeliveryOptions) {}

  /** Records queued or in flight. */
  get pending(): number {
    return this.items.length - this.head + this.inFlight.length;
  }

  push(line: string): void {
    if (this.items.length - this.head >= this.opts.maxQueued) {
      this.head++;
      this.dropped++;
      this.noteDrop();
    }
    this.items.push(line);
    if (!this.running) {
      this.running = true;
      setImmediate(() => void this.loop());
    }
  }

  /**
   * Settles once everything queued now and later is delivered, or at `deadline` (ms epoch): then
   * the number of records still undelivered (0: all in). A waiting retry is tried at once.
   */
  async drain(deadline: number): Promise<number> {
    if (this.pending === 0) return 0;
    const waiting = new Promise<void>((ok) => {
      const timer = setTimeout(ok, Math.max(0, deadline - Date.now()));
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        ok();
      });
    });
    this.wake?.();
    await waiting;
    return this.pending;
  }

  private noteDrop(): void {
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.lastDropLog = now;
    this.opts.log.warn({ target: this.opts.name, dropped: this.dropped, queued: this.opts.maxQueued }, 'audit queue full: dropping the oldest records');
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.inFlight.length === 0) {
          let available = this.items.length - this.head;
          if (available === 0) break;
          const linger = this.opts.lingerMs ?? 0;
          if (available < this.opts.maxBatch && linger > 0 && this.idleWaiters.length === 0) {
            await this.wait(linger);
            available = this.items.length - this.head;
          }
          const n = Math.min(available, this.opts.maxBatch);
          this.inFlight = this.items.slice(this.head, this.head + n);
          this.head += n;
          if (this.head === this.items.length) {
            this.items = [];
            this.head = 0;
          } else if (this.head > 4096 && this.head * 2 > this.items.length) {
            this.items = this.items.slice(this.head);
            this.head = 0;
          }
        }
        try {
          await this.opts.send(this.inFlight);
          this.delivered += this.inFlight.length;
          this.inFlight = [];
          if (this.failures > 0) this.opts.log.info({ target: this.opts.name, failures: this.failures }, 'audit delivery resumed');
          this.failures = 0;
        } catch (err) {
          if (err instanceof PartialDelivery && err.delivered > 0) {
            this.delivered += err.delivered;
            this.inFlight = this.inFlight.slice(err.delivered);
          }
          this.failures++;
          this.noteFailure(err instanceof PartialDelivery ? err.cause : err);
          await this.wait(this.backoffMs());
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      // A push between the loop's last look and now found it running: look again.
      if (this.items.length - this.head > 0 && !this.running) {
        this.running = true;
        setImmediate(() => void this.loop());
      }
    }
  }

  private noteFailure(err: unknown): void {
    const now = Date.now();
    if (this.failures > 1 && now - this.lastFailLog < FAIL_LOG_EVERY_MS) return;
    this.lastFailLog = now;
    this.opts.log.warn(
      { target: this.opts.name, failures: this.failures, pending: this.pending, err: err instanceof Error ? err.message : String(err) },
      'audit delivery failed: retrying',
    );
  }

  /** The wait before the next attempt: doubling from the first, capped (short while draining). */
  private backoffMs(): number {
    const first = this.opts.retryFirstMs ?? 250;
    const max = this.opts.retryMaxMs ?? 30_000;
    return Math.min(this.idleWaiters.length > 0 ? DRAIN_RETRY_MS : max, first * 2 ** Math.min(20, this.failures - 1));
  }

  /** Waits `ms` (unref'd: a waiting queue never keeps the process alive), or until drain() wakes it. */
  private wait(ms: number): Promise<void> {
    return new Promise<void>((ok) => {
      const done = () => {
        clearTimeout(this.waitTimer);
        this.waitTimer = undefined;
        this.wake = undefined;
        ok();
      };
      this.wake = done;
      this.waitTimer = setTimeout(done, ms);
      this.waitTimer.unref();
    });
  }
}
