// Where audit record lines go (src/audit/audit.ts makes them). LocalSink: the targets of this
// process, a delivery queue each (the rotated file, the webhook), every line to each — in the single
// process, or in the cluster primary for every worker's lines (src/audit/cluster.ts).
import type { AuditConfig } from '../config.js';
import { RotatingFile } from './file.js';
import { DeliveryQueue, type QueueLog } from './queue.js';
import { webhookSender } from './webhook.js';

export interface AuditSink {
  write(line: string): void;
  /** Delivers what is pending, waiting at most until `deadline` (ms epoch); then stops. */
  close(deadline: number): Promise<void>;
}

/** Records per file write at most, and how long a smaller batch waits for more (docs/performance.md, "Audit log"). */
const FILE_BATCH = 1000;
const FILE_LINGER_MS = 50;
/** Records per webhook POST at most, and how long a smaller batch waits for more. */
const WEBHOOK_BATCH = 500;
const WEBHOOK_LINGER_MS = 200;

/** The targets of this process: a queue per target, every line to each. */
export class LocalSink implements AuditSink {
  private readonly queues: DeliveryQueue[] = [];
  private readonly file: RotatingFile | undefined;

  constructor(
    config: AuditConfig,
    private readonly log: QueueLog,
  ) {
    if (config.file) {
      // A bad path stops the start here, with its name.
      RotatingFile.check(config.file.path);
      const file = new RotatingFile(config.file);
      this.file = file;
      this.queues.push(
        new DeliveryQueue({
          name: 'file',
          maxQueued: config.queueMax,
          maxBatch: FILE_BATCH,
          lingerMs: FILE_LINGER_MS,
          send: (lines) => file.append(lines),
          log,
        }),
      );
    }
    if (config.webhook) {
      this.queues.push(
        new DeliveryQueue({
          name: 'webhook',
          maxQueued: config.queueMax,
          maxBatch: WEBHOOK_BATCH,
          lingerMs: WEBHOOK_LINGER_MS,
          send: webhookSender(config.webhook),
          log,
        }),
      );
    }
  }

  write(line: string): void {
    for (const q of this.queues) q.push(line);
  }

  /** Lines as a worker sends them (each ending in \n). */
  writeLines(text: string): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (nl > start) this.write(text.slice(start, nl + 1));
      start = nl + 1;
    }
  }

  async close(deadline: number): Promise<void> {
    const left = await Promise.all(this.queues.map((q) => q.drain(deadline)));
    const lost = left.reduce((a, b) => a + b, 0);
    const dropped = this.queues.reduce((a, q) => a + q.dropped, 0);
    if (lost > 0) this.log.warn({ lost, dropped }, 'audit: records still undelivered at shutdown are lost');
    else if (dropped > 0) this.log.warn({ dropped }, 'audit: records were dropped while a queue was full');
    await this.file?.close().catch(() => undefined);
  }

  /** Dropped (queue full) and delivered counts per target: for tests and the logs. */
  stats(): Array<{ dropped: number; delivered: number; pending: number }> {
    return this.queues.map((q) => ({ dropped: q.dropped, delivered: q.delivered, pending: q.pending }));
  }
}
