// The audit file: records appended to PATH; when the next record would take it past maxBytes, PATH
// becomes PATH.1 (PATH.1 → PATH.2 …, PATH.<keep> is removed) and a new PATH starts. One writer per
// file (the single process, or the cluster primary: workers send it their records), so rotation
// needs no lock. A record never spans two files; a file passes maxBytes only by a record longer
// than maxBytes alone. A failed write is cut back to the last whole record (ftruncate) and reported
// as a PartialDelivery, so a retry never duplicates or tears a record. Synced (fdatasync) at each
// rotation and at close; between, the records are the kernel's to write (docs/audit.md).
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { type FileHandle, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PartialDelivery } from './queue.js';

export interface RotatingFileOptions {
  path: string;
  maxBytes: number;
  /** Rotated files kept: PATH.1 … PATH.<keep> (at least 1). */
  keep: number;
}

export class RotatingFile {
  private fh: FileHandle | undefined;
  private size = 0;
  /** Rotated files PATH.1 … PATH.<rotated> (undefined: not counted yet). */
  private rotated: number | undefined;

  constructor(private readonly opts: RotatingFileOptions) {}

  /**
   * Checks at startup that PATH can be written (its directory made if missing): throws with the
   * path and the reason, so a bad --audit-file stops the start instead of losing records.
   */
  static check(path: string): void {
    try {
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, 'a', 0o600));
    } catch (err) {
      throw new Error(`cannot write the audit file ${path}: ${(err as Error).message}`);
    }
  }

  /** Appends whole lines, rotating before a line that would pass maxBytes. */
  async append(lines: readonly string[]): Promise<void> {
    let done = 0;
    try {
      const fh = this.fh ?? (await this.openFile());
      let chunk = '';
      let chunkBytes = 0;
      let chunkLines = 0;
      for (const line of lines) {
        const n = Buffer.byteLength(line);
        if (this.size + chunkBytes + n > this.opts.maxBytes && this.size + chunkBytes > 0) {
          if (chunkLines > 0) {
            await this.write(this.fh ?? fh, chunk, chunkBytes);
            done += chunkLines;
          }
          chunk = '';
          chunkBytes = 0;
          chunkLines = 0;
          await this.rotate();
        }
        chunk += line;
        chunkBytes += n;
        chunkLines++;
      }
      if (chunkLines > 0) {
        await this.write(this.fh ?? fh, chunk, chunkBytes);
        done += chunkLines;
      }
    } catch (err) {
      throw new PartialDelivery(done, err);
    }
  }

  /** Syncs and closes the file (a later append opens it again). */
  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    if (!fh) return;
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  }

  private async openFile(): Promise<FileHandle> {
    const fh = await open(this.opts.path, 'a', 0o600);
    this.size = (await fh.stat()).size;
    this.fh = fh;
    return fh;
  }

  /** Writes one chunk whole; on failure the file is cut back to where the chunk began. */
  private async write(fh: FileHandle, text: string, bytes: number): Promise<void> {
    const buf = Buffer.from(text);
    let off = 0;
    try {
      while (off < buf.length) off += (await fh.write(buf, off)).bytesWritten;
    } catch (err) {
      if (off > 0) await fh.truncate(this.size).catch(() => undefined);
      throw err;
    }
    this.size += bytes;
  }

  /**
   * PATH.<keep-1> → PATH.<keep> … PATH → PATH.1, then a new PATH. Only the files there are renamed:
   * PATH.1 … PATH.<n>, counted once (the first run of existing numbers), then kept in memory — a
   * rotation costs n renames, not keep (300 records rotated every ~10 with keep 500: 0.8–1.1 s of
   * failed renames before, 0.15–0.23 s after; a slow writer can miss a shutdown's drain).
   */
  private async rotate(): Promise<void> {
    await this.close();
    const { path, keep } = this.opts;
    let n = this.rotated ?? (await countRotated(path, keep));
    if (n >= keep) {
      await rm(`${path}.${keep}`, { force: true });
      n = keep - 1;
    }
    this.rotated = undefined; // a failure below leaves the count to be read again
    for (let i = n; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err; // removed by hand meanwhile
      });
    }
    await rename(path, `${path}.1`);
    this.rotated = n + 1;
    await this.openFile();
  }
}

/** How many of PATH.1, PATH.2, … exist in a row (at most keep). */
async function countRotated(path: string, keep: number): Promise<number> {
  let n = 0;
  while (
    n < keep &&
    (await stat(`${path}.${n + 1}`).then(
      () => true,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return false;
        throw err;
      },
    ))
  )
    n++;
  return n;
}
