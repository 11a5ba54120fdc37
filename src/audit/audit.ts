// The audit log of a server (docs/audit.md): `AuditLog.record(facts)` turns one answered request
// into a JSON line and hands it to the sink without waiting. The sink is either local — a delivery
// queue per target (the rotated file, the webhook) in this process (sink.ts) — or, in a cluster
// worker, the primary: records go over the cluster IPC channel in batches and the primary's local
// sink delivers them (one writer of the file, one webhook queue; cluster.ts).
import type { AuditConfig } from '../config.js';
import { ForwardSink } from './cluster.js';
import type { QueueLog } from './queue.js';
import { type AuditFacts, auditLine } from './record.js';
import { type AuditSink, LocalSink } from './sink.js';

export class AuditLog {
  constructor(
    private readonly sink: AuditSink,
    private readonly log: QueueLog,
  ) {}

  /** Records one answered request: never throws, never waits (the line is queued). */
  record(facts: AuditFacts): void {
    let line: string;
    try {
      line = auditLine(facts);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, requestId: facts.requestId }, 'audit record could not be built');
      return;
    }
    this.sink.write(line);
  }

  /** Delivers what is pending (at most `ms`), then stops: at shutdown. */
  close(ms: number): Promise<void> {
    return this.sink.close(Date.now() + ms);
  }
}

/** The audit log of a process that delivers its own records (--workers 1, or tests); undefined when off. */
export function localAudit(config: AuditConfig | undefined, log: QueueLog): AuditLog | undefined {
  return config && new AuditLog(new LocalSink(config, log), log);
}

/** A cluster worker's audit log: to the primary over `process.send`; undefined when off. */
export function workerAudit(config: AuditConfig | undefined, log: QueueLog): AuditLog | undefined {
  if (!config || !process.send) return undefined;
  const send = process.send.bind(process);
  return new AuditLog(new ForwardSink((message, done) => send(message, undefined, {}, done), config.queueMax, log), log);
}
