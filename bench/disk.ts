// The disk's own limit for durable writes, measured in the same run as the cells it bounds, on the
// same file system as Strata's data directory: `dd if=/dev/zero of=FILE bs=1M count=N
// conv=fdatasync` — a plain program, 1 MiB write()s into a new file then one fdatasync, which is
// what "write the bytes and make them durable" costs without HTTP, hashing or metadata. dd rather
// than a Node program: it is the figure anyone can reproduce in a shell (the issue quotes it), and
// it carries no runtime of its own (no thread pool, no JavaScript) that would make the limit look
// lower than the disk's. The same bytes, the same concurrency and the same sync granularity as the
// S3 requests of the cell: PUT 64 MiB c2 = two dd of 64 MiB side by side, again and again; the
// multipart cell = 32 parts of 8 MiB (each UploadPart is durable when answered: one fdatasync per
// part), 4 at a time, per upload. Each file is removed when written (inside the measured time, as
// an overwrite of a key removes the old data). Every wait is bounded.
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadResult } from './client.js';

const MiB = 1024 * 1024;

/** What one cell writes: `jobsPerOp` files of `jobBytes` each per operation, `concurrency` at a time. */
export interface DiskSpec {
  /** Bytes of one file (one dd: one PUT body, or one part). */
  jobBytes: number;
  /** Files per operation (1 for a PUT; the parts of one multipart upload). */
  jobsPerOp: number;
  /** dd processes running at once (the cell's connections or parallel parts). */
  concurrency: number;
}

export const DISK_COMMAND = 'dd if=/dev/zero of=FILE bs=1M count=N conv=fdatasync status=none';

let fileCounter = 0;

function dd(file: string, bytes: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${Math.ceil(bytes / MiB)}`, 'conv=fdatasync', 'status=none'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      rmSync(file, { force: true });
      if (code === 0) resolve();
      else reject(new Error(`dd exited ${code}: ${err.trim()}`));
    });
  });
}

/**
 * Writes operations of `spec` for about `durationS` (operations started before the deadline run to
 * the end; at most maxOps), in `dir`; the result counts operations, elapsed to the last one's end.
 */
export async function diskWrite(dir: string, spec: DiskSpec, durationS: number, maxOps: number): Promise<LoadResult> {
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const deadline = t0 + durationS * 1000;
  let ops = 0;
  let tLast = t0;
  const lat: number[] = [];
  if (spec.jobsPerOp === 1) {
    // Independent streams (connections): each starts its next file when the last is synced.
    let started = 0;
    const stream = async () => {
      while (performance.now() < deadline && started < maxOps) {
        started++;
        const s = performance.now();
        await dd(join(dir, `w${++fileCounter}`), spec.jobBytes, 300_000);
        tLast = performance.now();
        lat.push(tLast - s);
        ops++;
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency }, stream));
  } else {
    // Operations one after another, each `jobsPerOp` files written `concurrency` at a time.
    do {
      const s = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < spec.jobsPerOp) {
          next++;
          await dd(join(dir, `p${++fileCounter}`), spec.jobBytes, 300_000);
        }
      };
      await Promise.all(Array.from({ length: spec.concurrency }, worker));
      tLast = performance.now();
      lat.push(tLast - s);
      ops++;
    } while (performance.now() < deadline && ops < maxOps);
  }
  lat.sort((a, b) => a - b);
  return {
    ops,
    elapsedS: Math.max(1e-6, (tLast - t0) / 1000),
    statuses: {},
    errors: 0,
    bytesIn: 0,
    latencyMs: { p50: lat[lat.length >> 1] ?? NaN, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN },
    tool: 'dd',
  };
}
