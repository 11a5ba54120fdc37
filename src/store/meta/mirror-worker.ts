// The thread behind mirror-thread.ts: a copy's switch to a new WAL generation (applyWal: the WAL
// read, the pages written at their place in the copy's database, its fdatasync, the WAL's header
// replaced by the new generation's and synced), run here so that the event loop goes on while it
// takes its milliseconds (docs/on-disk-format.md, "Metadata copies"). File descriptors are the
// process's: the main thread passes a copy's WAL descriptor by number. One message in, one answer out.
import { parentPort } from 'node:worker_threads';
import { applyWal } from './wal-frames.js';

/** What mirror-thread.ts sends: apply the copy's WAL, then write `header` (the new generation's) at its start. */
export type ToMirrorWorker = { id: number; walFd: number; dbPath: string; header: Uint8Array };

export type FromMirrorWorker = { id: number; pages: number } | { id: number; error: string; code?: string };

parentPort!.on('message', (m: ToMirrorWorker) => {
  let answer: FromMirrorWorker;
  try {
    answer = { id: m.id, pages: applyWal(m.walFd, m.dbPath, true, Buffer.from(m.header)) };
  } catch (err) {
    const e = err as { message?: string; code?: unknown };
    answer = { id: m.id, error: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined };
  }
  parentPort!.postMessage(answer);
});
