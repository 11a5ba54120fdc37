// BatchWriter's release hook (the heal hands its rebuilt shards back to the block pool with it):
// each buffer is released once the write that carried it has ended, never before, in order; a
// failed write releases its buffers too; a batch never issued releases nothing.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchWriter } from './batch-writer.js';

describe('BatchWriter release', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-batch-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('each buffer once the write that carried it has ended (the file already holds it), in order; the file holds every byte', async () => {
    const path = join(dir, 'ok');
    const fh = await open(path, 'w');
    const bufs = [1, 2, 3, 4, 5, 6, 7].map((i) => Buffer.alloc(400, i));
    const ends = new Map<Buffer, number>(bufs.map((b, i) => [b, (i + 1) * 400]));
    const released: Buffer[] = [];
    /** Buffers released while the file did not hold them yet. */
    const early: number[] = [];
    const writer = new BatchWriter(fh, undefined, 1000, (b) => {
      if (statSync(path).size < ends.get(b)!) early.push(b[0]!);
      released.push(b);
    });
    for (const b of bufs) await writer.add(b);
    // Batches of 1000 bytes or more: [1 2 3] and [4 5 6] issued, [7] still gathered.
    assert.ok(!released.includes(bufs[6]!), 'a buffer not yet written was released');
    await writer.flush();
    await fh.close();
    assert.deepEqual(released, bufs);
    assert.deepEqual(early, [], 'released before the file held them');
    assert.ok((await readFile(path)).equals(Buffer.concat(bufs)));
  });

  it('a failed write releases its buffers; a batch never issued releases nothing', async () => {
    const fh = await open(join(dir, 'closed'), 'w');
    const released: Buffer[] = [];
    const writer = new BatchWriter(fh, undefined, 1000, (b) => released.push(b));
    await fh.close();
    const [a, b, c] = [1, 2, 3].map((i) => Buffer.alloc(600, i));
    assert.equal(writer.add(a!), undefined);
    assert.equal(writer.add(b!), undefined, 'the first batch issued, no earlier write to wait for');
    writer.add(c!);
    await writer.settle();
    assert.deepEqual(released, [a, b]);
  });
});
