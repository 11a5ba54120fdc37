// The thread behind mirror.ts's slow steps: a copy's switch to a new WAL generation (applyWal: the
// WAL read, the pages written, three fdatasyncs) and the primary's checkpoint (SQLite writes the
// pages and syncs), run here while the main thread's round holds SQLite's write lock and awaits the
// answer — so the event loop goes on parsing and answering requests meanwhile (docs/performance.md,
// "Metadata copies: the switch off the event loop"). File descriptors are the process's: the main
// thread passes a copy's WAL descriptor by number. One message in, one answer out, in order.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isBusyError } from './sqlite-busy.js';
import { applyWal } from './wal-frames.js';

/** What mirror.ts sends. */
export type ToMirrorWorker =
  | { t: 'apply'; id: number; walFd: number; dbPath: string }
  | { t: 'checkpoint'; id: number; dbPath: string }
  | { t: 'close'; id: number };

/** The answer: `busy` when the checkpoint found another connection checkpointing. */
export type FromMirrorWorker =
  | { t: 'ok'; id: number; pages?: number; busy?: boolean; log?: number; checkpointed?: number; busyFrames?: number }
  | { t: 'error'; id: number; message: string; code?: string };

let ckptDb: Database.Database | undefined;

function run(m: ToMirrorWorker): FromMirrorWorker {
  switch (m.t) {
    case 'apply':
      return { t: 'ok', id: m.id, pages: applyWal(m.walFd, m.dbPath, true, 'invalidate') };
    case 'checkpoint': {
      if (!ckptDb) {
        ckptDb = new Database(m.dbPath);
        ckptDb.pragma('busy_timeout = 0');
        ckptDb.pragma('wal_autocheckpoint = 0');
      }
      try {
        const r = ckptDb.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
        return { t: 'ok', id: m.id, busyFrames: r[0]?.busy, log: r[0]?.log, checkpointed: r[0]?.checkpointed };
      } catch (err) {
        if (isBusyError(err)) return { t: 'ok', id: m.id, busy: true };
        throw err;
      }
    }
    case 'close':
      ckptDb?.close();
      ckptDb = undefined;
      return { t: 'ok', id: m.id };
  }
}

parentPort!.on('message', (m: ToMirrorWorker) => {
  let answer: FromMirrorWorker;
  try {
    answer = run(m);
  } catch (err) {
    const e = err as { message?: string; code?: unknown };
    answer = { t: 'error', id: m.id, message: String(e?.message ?? err), code: typeof e?.code === 'string' ? e.code : undefined };
  }
  parentPort!.postMessage(answer);
});
