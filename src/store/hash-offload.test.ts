// Hashing off the event loop (hash-offload.ts): the same digests as node:crypto in place, for any
// chunking; backpressure; aborted streams leave nothing behind.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { OffloadedHash, offloadWorthIt, openOffloadStreams } from './hash-offload.js';

const MiB = 1024 * 1024;

/** Feeds `data` in chunks of the given sizes (cycled), awaiting backpressure as callers must. */
async function feed(h: OffloadedHash, data: Buffer, sizes: number[]): Promise<void> {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - off);
    const behind = h.update(data.subarray(off, off + n));
    if (behind) await behind;
    off += n;
  }
}

function blocksOf(data: Buffer, size: number): string[] {
  const out: string[] = [];
  for (let off = 0; off < data.length; off += size)
    out.push(
      createHash('sha256')
        .update(data.subarray(off, off + size))
        .digest('hex'),
    );
  return out;
}

describe('offloadWorthIt', () => {
  it('turns the offload on only with two CPUs beyond the serving processes (measured: one spare core is a loss)', () => {
    assert.equal(offloadWorthIt(2, 2), false, 'default workers on 2 CPUs');
    assert.equal(offloadWorthIt(2, 1), false, '--workers 1 on 2 CPUs: the test machine, where it measured slower');
    assert.equal(offloadWorthIt(4, 4), false, 'default workers on 4 CPUs');
    assert.equal(offloadWorthIt(3, 1), true);
    assert.equal(offloadWorthIt(8, 2), true);
    assert.equal(offloadWorthIt(1, 1), false);
  });
});

describe('OffloadedHash', () => {
  it('md5, sha1, sha256 and block digests equal node:crypto in place, for odd chunk sizes', async () => {
    const data = randomBytes(3 * MiB + 12345);
    for (const sizes of [[1, 7, 65536, 100_000], [3 * MiB + 12345], [MiB]]) {
      const h = new OffloadedHash(['md5', 'sha1', 'sha256'], MiB);
      await feed(h, data, sizes);
      const { digests, blocks } = await h.digest();
      for (const alg of ['md5', 'sha1', 'sha256']) assert.equal(digests[alg]!.toString('hex'), createHash(alg).update(data).digest('hex'), alg);
      assert.deepEqual(
        blocks.map((b) => b.toString('hex')),
        blocksOf(data, MiB),
      );
    }
    assert.equal(openOffloadStreams(), 0);
  });

  it('an empty stream has the empty digests and no blocks; several streams at once stay apart', async () => {
    const empty = new OffloadedHash(['md5'], MiB);
    const d = await empty.digest();
    assert.equal(d.digests.md5!.toString('hex'), createHash('md5').digest('hex'));
    assert.deepEqual(d.blocks, []);
    const bodies = [randomBytes(2 * MiB + 1), randomBytes(5 * MiB), randomBytes(MiB - 1)];
    const results = await Promise.all(
      bodies.map(async (b, i) => {
        const h = new OffloadedHash(['md5']);
        await feed(h, b, [65536 + i * 1000]);
        return (await h.digest()).digests.md5!.toString('hex');
      }),
    );
    assert.deepEqual(
      results,
      bodies.map((b) => createHash('md5').update(b).digest('hex')),
    );
  });

  it('backpressure: one update far past the in-flight bound asks the caller to wait, then resolves', async () => {
    const data = randomBytes(10 * MiB);
    const h = new OffloadedHash(['sha256']);
    const behind = h.update(data);
    assert.ok(behind instanceof Promise, 'ten slabs at once are past the in-flight bound');
    await behind;
    assert.equal((await h.digest()).digests.sha256!.toString('hex'), createHash('sha256').update(data).digest('hex'));
  });

  it('abort mid-body: the stream is forgotten once the worker has given its slabs back; update after it throws', async () => {
    const h = new OffloadedHash(['md5'], MiB);
    await feed(h, randomBytes(3 * MiB), [65536]);
    h.abort();
    assert.throws(() => h.update(Buffer.from('x')), /after digest\(\) or abort\(\)/);
    await assert.rejects(h.digest(), /twice or after abort/);
    // A fresh stream's round trip: the worker has answered everything sent before it.
    const later = new OffloadedHash(['md5']);
    later.update(Buffer.from('abc'));
    assert.equal((await later.digest()).digests.md5!.toString('hex'), createHash('md5').update('abc').digest('hex'));
    for (let i = 0; i < 100 && openOffloadStreams() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(openOffloadStreams(), 0);
  });
});
