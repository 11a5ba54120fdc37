// mirror.ts's side of mirror-worker.ts: one thread per process, started with the copies, that runs
// a copy's switch (applyWal) and the primary's checkpoint while the round holding SQLite's write
// lock awaits it. If the thread cannot start or dies, the same work runs on the calling thread, as
// before there was one (correct, only slower for the event loop).
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { isBusyError } from './sqlite-busy.js';
import { applyWal } from './wal-frames.js';
import type { FromMirrorWorker, ToMirrorWorker } from './mirror-worker.js';

type Job = { t: 'apply'; walFd: number; dbPath: string } | { t: 'checkpoint'; dbPath: string };

/** A checkpoint's outcome: `busy` when another connection was checkpointing (nothing done). */
export interface CheckpointResult {
  busy: boolean;
  log: number;
  checkpointed: number;
  busyFrames: number;
}

type Waiter = { resolve: (m: FromMirrorWorker) => void; reject: (e: Error) => void };

export class MirrorThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;
  /** The calling thread's checkpoint connection, when the thread is gone. */
  private localCkpt: Database.Database | undefined;

  constructor(onThread = true) {
    if (onThread) this.start();
  }

  private start(): void {
    try {
      const w = new Worker(new URL('./mirror-worker.js', import.meta.url));
      w.on('message', (m: FromMirrorWorker) => {
        const x = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (this.waiting.size === 0) w.unref();
        x?.resolve(m);
      });
      const fail = (err: Error): void => {
        if (this.worker === w) this.worker = undefined;
        for (const x of this.waiting.values()) x.reject(err);
        this.waiting.clear();
      };
      w.on('error', fail);
      w.on('exit', (code) => fail(new Error(`metadata copy thread exited (code ${code})`)));
      w.unref();
      this.worker = w;
    } catch {
      this.worker = undefined;
    }
  }

  private async post(job: Job): Promise<FromMirrorWorker> {
    const w = this.worker;
    if (!w) return this.local(job);
    const id = this.nextId++;
    const answer = await new Promise<FromMirrorWorker>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) w.ref();
      w.postMessage({ ...job, id } satisfies ToMirrorWorker);
    });
    if (answer.t === 'error') throw Object.assign(new Error(answer.message), answer.code ? { code: answer.code } : {});
    return answer;
  }

  /** The same work on the calling thread (no worker thread). */
  private local(job: Job): FromMirrorWorker {
    if (job.t === 'apply') return { t: 'ok', id: 0, pages: applyWal(job.walFd, job.dbPath, true, 'invalidate') };
    if (!this.localCkpt) {
      this.localCkpt = new Database(job.dbPath);
      this.localCkpt.pragma('busy_timeout = 0');
      this.localCkpt.pragma('wal_autocheckpoint = 0');
    }
    try {
      const r = this.localCkpt.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      return { t: 'ok', id: 0, busyFrames: r[0]?.busy, log: r[0]?.log, checkpointed: r[0]?.checkpointed };
    } catch (err) {
      if (isBusyError(err)) return { t: 'ok', id: 0, busy: true };
      throw err;
    }
  }

  /** applyWal(walFd, dbPath, trusted, 'invalidate') off the event loop; answers the pages written. */
  async apply(walFd: number, dbPath: string): Promise<number> {
    const m = await this.post({ t: 'apply', walFd, dbPath });
    return m.t === 'ok' ? (m.pages ?? 0) : 0;
  }

  /** wal_checkpoint(PASSIVE) of the database at `dbPath`, from a connection of the thread. */
  async checkpoint(dbPath: string): Promise<CheckpointResult> {
    const m = await this.post({ t: 'checkpoint', dbPath });
    if (m.t !== 'ok' || m.busy) return { busy: true, log: 0, checkpointed: 0, busyFrames: 0 };
    return { busy: false, log: m.log ?? 0, checkpointed: m.checkpointed ?? 0, busyFrames: m.busyFrames ?? 0 };
  }

  /** Closes the thread's connection and ends the thread. */
  async close(): Promise<void> {
    this.localCkpt?.close();
    this.localCkpt = undefined;
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    const id = this.nextId++;
    await new Promise<void>((resolve) => {
      this.waiting.set(id, { resolve: () => resolve(), reject: () => resolve() });
      w.ref();
      w.postMessage({ t: 'close', id } satisfies ToMirrorWorker);
    });
    await w.terminate();
  }
}
