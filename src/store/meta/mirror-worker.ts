// The thread behind mirror-thread.ts: a copy's WAL applied to its database in part or in full
// (applyWalRange: the WAL read, the pages written at their place, fdatasyncs, and at a switch the
// WAL's header replaced by the new generation's), run here so that the event loop goes on while it
// takes its milliseconds (docs/on-disk-format.md, "Metadata copies"). File descriptors are the
// process's: the main thread passes a copy's WAL descriptor by number, or its path. One message in,
// one answer out.
import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { applyWalRange } from './wal-frames.js';

/** What mirror-thread.ts sends: see MirrorThread.apply. */
export interface ApplyJob {
  /** The copy's WAL: an open descriptor, or its path (opened and closed here). */
  walFd?: number;
  walPath?: string;
  dbPath: string;
  from: number;
  to?: number;
  header?: Uint8Array;
  /** The WAL must be of this generation (its header's salts), else nothing is applied. */
  salts?: Uint8Array;
}

export type ToMirrorWorker = ApplyJob & { id: number };

export type FromMirrorWorker = { id: number; end: number | null } | { id: number; error: string; code?: string };

/** Runs one job (here, or on the calling thread when there is no worker). */
export function runApply(job: ApplyJob): number | undefined {
  const fd = job.walFd ?? openSync(job.walPath!, 'r+');
  try {
    return applyWalRange(fd, job.dbPath, job.from, job.to, job.header ? Buffer.from(job.header) : undefined, job.salts ? Buffer.from(job.salts) : undefined);
  } finally {
    if (job.walFd === undefined) closeSync(fd);
  }
}

parentPort?.on('message', (m: ToMirrorWorker) => {
  let answer: FromMirrorWorker;
  try {
    answer = { id: m.id, end: runApply(m) ?? null };
  } catch (err) {
    const e = err as { message?: string; code?: unknown };
    answer = { id: m.id, error: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined };
  }
  parentPort!.postMessage(answer);
});
