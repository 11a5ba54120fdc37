// mirror.ts's side of mirror-worker.ts: a thread that switches a copy to a new WAL generation
// (applyWal), so that the event loop goes on meanwhile. If the thread cannot start or dies, the same
// work runs on the calling thread (correct, only slower for the event loop).
import { Worker } from 'node:worker_threads';
import { type ApplyJob, type FromMirrorWorker, runApply, type ToMirrorWorker } from './mirror-worker.js';

type Waiter = { resolve: (m: FromMirrorWorker) => void; reject: (e: Error) => void };

export class MirrorThread {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiter>();
  private nextId = 1;

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
      // Idle, it never keeps the process alive (after the listeners: adding one refs the worker).
      w.unref();
      this.worker = w;
    } catch {
      this.worker = undefined;
    }
  }

  /** runApply(job) (applyWalRange) on the thread: the end of the last commit applied, undefined if none could be. */
  async apply(job: ApplyJob): Promise<number | undefined> {
    const w = this.worker;
    if (!w) return runApply(job);
    const id = this.nextId++;
    const m = await new Promise<FromMirrorWorker>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) w.ref();
      w.postMessage({ ...job, id } satisfies ToMirrorWorker);
    });
    if ('error' in m) throw Object.assign(new Error(m.error), m.code ? { code: m.code } : {});
    return m.end ?? undefined;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
