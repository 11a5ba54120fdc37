// No unbounded memory: a 2 GiB object goes up (one PutObject from a generated stream: the test
// keeps it neither in memory nor on disk, it checksums the bytes while generating them) and comes
// back down through a reader that pauses repeatedly, while the server's RSS (VmRSS sampled from
// /proc/<pid>/status, and the kernel's own peak VmHWM; of each worker, with --workers N ≥ 2) stays under 200 MiB. A client that stops
// reading entirely for 6 s must not make the server read ahead into memory: its file reads stop
// (rchar in /proc/<pid>/io) and its RSS stays flat. After that client goes away, the server holds
// no descriptor of the object's data any more.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
/**
 * The size, kept: on the 2-core reference machine the upload takes ~12-14 s and the
 * download ~14-15 s (8 s of it deliberate pauses), the whole file ~45 s.
 */
const SIZE = 2 * 1024 * MiB;
const RSS_LIMIT = 200 * MiB;
const BUCKET = 'memory';
const KEY = 'two-gib';
const BLOCK = MiB;

/** The deterministic pattern: one pseudo-random 1 MiB block, each copy stamped with its index. */
const BASE = (() => {
  const b = Buffer.alloc(BLOCK);
  let h = createHash('sha256').update('strata memory test').digest();
  for (let off = 0; off < BLOCK; off += h.length) {
    h.copy(b, off);
    h = createHash('sha256').update(h).digest();
  }
  return b;
})();

/** A Readable of `size` pattern bytes; `digest()` gives their SHA-256 once it has ended. */
function patternStream(size: number): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  let index = 0;
  const stream = new Readable({
    highWaterMark: BLOCK,
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(BLOCK, size - sent);
      const chunk = Buffer.allocUnsafe(n);
      BASE.copy(chunk, 0, 0, n);
      if (n >= 8) chunk.writeBigUInt64BE(BigInt(index), 0);
      index++;
      sent += n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

interface Usage {
  rss: number;
  hwm: number;
}

/** The current and peak resident set size of the server's largest serving process (each worker), in bytes. */
function usageOf(server: RunningServer): Usage {
  let rss = 0;
  let hwm = 0;
  for (const pid of server.workerPids()) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    rss = Math.max(rss, kb('VmRSS'));
    hwm = Math.max(hwm, kb('VmHWM'));
  }
  return { rss, hwm };
}

/** Bytes the server's serving processes have read through read(2)-like calls (files and sockets). */
const rcharOf = (server: RunningServer) =>
  server.workerPids().reduce((sum, pid) => sum + Number(/^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN), 0);

/** The server's open descriptors on object data files. */
function dataFds(server: RunningServer): number {
  const objects = join(server.dataDir, 'objects');
  let n = 0;
  for (const pid of server.workerPids()) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith(objects)) n++;
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return n;
}

/** Samples the server's memory every 50 ms until stopped; `max` is the largest VmRSS seen. */
function sampler(server: RunningServer) {
  let max = 0;
  let samples = 0;
  const take = () => {
    try {
      max = Math.max(max, usageOf(server).rss);
      samples++;
    } catch {
      /* the process is gone: the test fails elsewhere */
    }
  };
  take();
  const timer = setInterval(take, 50);
  return {
    stop: () => {
      clearInterval(timer);
      take();
      return { max, samples };
    },
  };
}

const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

describe('memory stays bounded for huge objects and slow readers', { timeout: 240_000 }, () => {
  let server: RunningServer;
  let s3: S3Client;
  let expected = '';

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('2 GiB PutObject from a generated stream, then a download that pauses repeatedly: SHA-256 matches, RSS < 200 MiB', async () => {
    const mem = sampler(server);
    const t0 = Date.now();
    const { stream, digest } = patternStream(SIZE);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: stream, ContentLength: SIZE }));
    expected = digest();
    const tUp = Date.now() - t0;
    const afterUpload = usageOf(server);

    const t1 = Date.now();
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    assert.equal(got.ContentLength, SIZE);
    const body = got.Body as Readable;
    const hash = createHash('sha256');
    let received = 0;
    // Pause for 2 s at 10 %, 35 %, 60 % and 85 % of the body: the server must wait, not buffer.
    const pauses = [0.1, 0.35, 0.6, 0.85].map((f) => Math.floor(SIZE * f));
    await new Promise<void>((resolve, reject) => {
      body.on('data', (c: Buffer) => {
        hash.update(c);
        received += c.length;
        if (pauses.length > 0 && received >= pauses[0]!) {
          pauses.shift();
          body.pause();
          setTimeout(() => body.resume(), 2000);
        }
      });
      body.once('end', resolve);
      body.once('error', reject);
    });
    const tDown = Date.now() - t1;
    const { max, samples } = mem.stop();
    const final = usageOf(server);
    const report =
      `upload ${(tUp / 1000).toFixed(1)} s (RSS after ${mib(afterUpload.rss)}), download ${(tDown / 1000).toFixed(1)} s; ` +
      `max sampled VmRSS ${mib(max)} over ${samples} samples, VmHWM ${mib(final.hwm)}`;
    console.log(`# memory: ${report}`);
    assert.equal(received, SIZE);
    assert.equal(hash.digest('hex'), expected, 'downloaded bytes differ from the uploaded ones');
    assert.ok(max < RSS_LIMIT, `server VmRSS reached ${mib(max)} (${report})`);
    assert.ok(final.hwm < RSS_LIMIT, `server peak VmHWM ${mib(final.hwm)} (${report})`);
  });

  it('a client that stops reading for 6 s: the server stops reading the file and does not buffer', async () => {
    assert.ok(expected, 'needs the object of the previous test');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: KEY }));
    const body = got.Body as Readable;
    // Read 16 MiB, then stop reading entirely.
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      const onData = (c: Buffer) => {
        received += c.length;
        if (received >= 16 * MiB) {
          body.pause();
          body.off('data', onData);
          resolve();
        }
      };
      body.on('data', onData);
      body.once('error', reject);
    });
    // Let the socket buffers on both sides fill up, then watch for 5 s.
    await sleep(1000);
    const before0 = usageOf(server);
    const rchar0 = rcharOf(server);
    const mem = sampler(server);
    await sleep(5000);
    const { max } = mem.stop();
    const readDuringStall = rcharOf(server) - rchar0;
    const report = `RSS at stall ${mib(before0.rss)}, max during ${mib(max)}, server read ${mib(readDuringStall)} during the 5 s stall`;
    console.log(`# stalled reader: ${report}`);
    // Without backpressure the server would read on at disk speed (GiBs in 5 s) into memory.
    assert.ok(readDuringStall < 8 * MiB, `the server kept reading while the client did not (${report})`);
    assert.ok(max - before0.rss < 32 * MiB, `server RSS grew while the client did not read (${report})`);
    assert.ok(max < RSS_LIMIT, report);

    // The client goes away: the server closes the data file (and releases its read pin).
    body.destroy();
    const deadline = Date.now() + 5000;
    while (dataFds(server) > 0 && Date.now() < deadline) await sleep(50);
    assert.equal(dataFds(server), 0, 'the server still holds the object data open after the client left');
  });
});
