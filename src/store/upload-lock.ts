// The per-upload lock: UploadPart's commit, CompleteMultipartUpload and AbortMultipartUpload of one
// upload run one at a time, in every process sharing the metadata store. In this process the
// holders queue on a promise chain (no database traffic while they wait); the process's turn is
// then taken in the database as the lease `upload:<id>` (coord.ts), which a holder in another
// process blocks. Waiting for it is asynchronous (backoff between tries): the event loop never
// waits. A lease whose process died expires after LOCK_TTL_MS; a live holder renews it.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Coordination } from './coord.js';
import { StoreError } from './errors.js';

/** Lease of a held upload lock; renewed every third of it while the holder runs. */
const LOCK_TTL_MS = 30_000;
/** How long a commit waits for another process's holder before failing with Busy (S3: SlowDown). */
const LOCK_WAIT_MS = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class UploadLocks {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly coord: Coordination,
    private readonly log?: Logger,
  ) {}

  /** Runs `fn` holding the upload's lock (after every earlier holder, in any process). */
  async with<T>(uploadId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(uploadId) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.chains.set(uploadId, tail);
    await previous;
    try {
      return await this.withLease(uploadId, fn);
    } finally {
      release();
      if (this.chains.get(uploadId) === tail) this.chains.delete(uploadId);
    }
  }

  private async withLease<T>(uploadId: string, fn: () => Promise<T>): Promise<T> {
    const name = `upload:${uploadId}`;
    const owner = randomUUID();
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; !(await this.coord.tryLease(name, owner, Date.now(), LOCK_TTL_MS)); attempt++) {
      if (Date.now() >= deadline) throw new StoreError('Busy', `upload ${uploadId} is locked by another process`);
      await sleep(Math.min(100, 2 * 2 ** Math.min(attempt, 6)));
    }
    const renew = setInterval(() => {
      this.coord.tryLease(name, owner, Date.now(), LOCK_TTL_MS).catch((err: unknown) => this.log?.warn({ err, uploadId }, 'could not renew an upload lock'));
    }, LOCK_TTL_MS / 3);
    renew.unref();
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await this.coord.releaseLease(name, owner).catch((err: unknown) => this.log?.warn({ err, uploadId }, 'could not release an upload lock (it expires)'));
    }
  }
}
