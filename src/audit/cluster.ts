// The audit log with --workers N: the primary owns the targets (one writer of the file, so rotation
// needs no lock; one webhook queue), the workers send it their records over the cluster IPC channel
// as one message per batch — every FORWARD_EVERY_MS or FORWARD_BATCH records, whichever comes
// first — so a record costs a worker a string append, not a message. A worker holds at most
// `queueMax` records while its channel is busy (MAX_MESSAGES_IN_FLIGHT unacknowledged), dropping
// the oldest beyond (counted, logged). On SIGTERM each worker sends what it holds before it exits,
// and the primary delivers everything once every worker's channel has closed.
import type { Worker } from 'node:cluster';
import type { AuditConfig } from '../config.js';
import { type AuditSink, LocalSink } from './sink.js';
import type { QueueLog } from './queue.js';

/** A worker → primary message carrying record lines. */
export interface AuditMessage {
  strata: 'audit';
  lines: string;
}

const FORWARD_EVERY_MS = 50;
const FORWARD_BATCH = 100;
const MAX_MESSAGES_IN_FLIGHT = 16;
const DROP_LOG_EVERY_MS = 10_000;

export type Send = (message: AuditMessage, done: (err: Error | null) => void) => void;

/** A worker's sink: batches lines and sends them to the primary. */
export class ForwardSink implements AuditSink {
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private idle: Array<() => void> = [];
  private lastDropLog = 0;
  dropped = 0;

  constructor(
    private readonly send: Send,
    private readonly maxHeld: number,
    private readonly log: QueueLog,
  ) {}

  write(line: string): void {
    if (this.buffer.length >= this.maxHeld) {
      this.buffer.shift();
      this.dropped++;
      const now = Date.now();
      if (now - this.lastDropLog >= DROP_LOG_EVERY_MS) {
        this.lastDropLog = now;
        this.log.warn({ target: 'primary', dropped: this.dropped }, 'audit queue full: dropping the oldest records');
      }
    }
    this.buffer.push(line);
    if (this.buffer.length >= FORWARD_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FORWARD_EVERY_MS).unref();
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0 && this.inFlight < MAX_MESSAGES_IN_FLIGHT) {
      const lines = this.buffer.splice(0, FORWARD_BATCH);
      this.inFlight++;
      try {
        this.send({ strata: 'audit', lines: lines.join('') }, (err) => this.sent(err, lines.length));
      } catch (err) {
        this.sent(err as Error, lines.length);
      }
    }
    // The channel is busy: look again shortly (the buffer stays bounded by write()).
    if (this.buffer.length > 0) this.timer = setTimeout(() => this.flush(), FORWARD_EVERY_MS).unref();
  }

  private sent(err: Error | null, n: number): void {
    this.inFlight--;
    if (err) {
      this.dropped += n;
      this.log.warn({ target: 'primary', lost: n, err: err.message }, 'audit: records could not be sent to the primary');
    }
    if (this.inFlight === 0 && this.buffer.length === 0) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    } else if (this.buffer.length > 0 && this.timer === undefined) this.flush();
  }

  async close(deadline: number): Promise<void> {
    this.flush();
    if (this.inFlight === 0 && this.buffer.length === 0) return;
    await new Promise<void>((ok) => {
      const timer = setTimeout(ok, Math.max(0, deadline - Date.now()));
      this.idle.push(() => {
        clearTimeout(timer);
        ok();
      });
    });
  }
}

/** The primary's side: the targets, fed by every worker. */
export class PrimaryAudit {
  private readonly sink: LocalSink;
  private readonly connected = new Set<Worker>();

  constructor(config: AuditConfig, log: QueueLog) {
    this.sink = new LocalSink(config, log);
  }

  /** Takes the records `w` sends. */
  attach(w: Worker): void {
    this.connected.add(w);
    w.on('message', (m: Partial<AuditMessage>) => {
      if (m?.strata === 'audit' && typeof m.lines === 'string') this.sink.writeLines(m.lines);
    });
    // A worker's last messages are read before its channel closes ('disconnect'), which may come after 'exit'.
    w.once('disconnect', () => this.connected.delete(w));
  }

  /** Once every worker's channel has closed (at most until `deadline`), delivers what is pending. */
  async close(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.connected.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      for (const w of this.connected) if (!w.isConnected()) this.connected.delete(w);
    }
    await this.sink.close(deadline);
  }
}
