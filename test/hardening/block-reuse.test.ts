// The block buffers a large GET reads into are reused (src/store/data/block-pool.ts): the response
// hands each back once written, the sealed reader the blocks it opened. A buffer handed back too
// early would send one object's bytes in another's body. Against one process (--workers 1: one pool
// for every request), on one directory and on six drives (EC 4+2, then with one drive's shards
// deleted: blocks rebuilt from parity), concurrent whole and ranged GETs of distinct plain and SSE-C
// objects of a few MiB (blocks, shards, packages and ranges on odd boundaries), with GETs cut off by
// the client mid-body among them, and slow readers that keep responses waiting on the socket: every
// body is exactly its object's bytes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { testClient } from '../helpers/s3.js';
import { startServer, type RunningServer } from '../helpers/server.js';
import { customerKey, MiB } from '../helpers/sse.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

for (const layout of ['one directory', 'six drives (EC 4+2)'] as const) {
  describe(`GET block buffers reused, ${layout}: concurrent GETs never mix bytes`, { timeout: 180_000 }, () => {
    let server: RunningServer;
    let s3: S3Client;
    let root: string;
    let drives: string[] = [];
    const bucket = 'reuse';
    const objects: Array<{ key: string; body: Buffer; sse?: ReturnType<typeof customerKey> }> = [];

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'strata-reuse-'));
      drives = layout === 'one directory' ? [] : Array.from({ length: 6 }, (_, i) => join(root, `d${i + 1}`));
      server = await startServer({
        ...(drives.length > 0 ? { data: drives } : { dataDir: join(root, 'data') }),
        args: ['--workers', '1', '--sse-c-over-http', 'yes'],
      });
      s3 = testClient(server.url);
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      for (let i = 0; i < 8; i++) {
        const body = randomBytes(2 * MiB + 12_345 * (i + 1));
        const sse = i % 2 === 1 ? customerKey(0x40 + i) : undefined;
        const key = `o${i}`;
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...sse }));
        objects.push({ key, body, ...(sse && { sse }) });
      }
    });

    after(async () => {
      s3?.destroy();
      await server?.stop();
      await rm(root, { recursive: true, force: true });
    });

    /** One GET: whole or a range, read at once, slowly, or cut after its first chunk. */
    async function get(o: (typeof objects)[number], seed: number): Promise<'cut' | 'ok'> {
      const ranged = seed % 2 === 1;
      const start = ranged ? (seed * 7_919) % (o.body.length - 1) : 0;
      const end = ranged ? Math.min(o.body.length - 1, start + 1 + ((seed * 104_729) % (3 * MiB))) : o.body.length - 1;
      const ctl = new AbortController();
      const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.key, ...(ranged && { Range: `bytes=${start}-${end}` }), ...o.sse }), {
        abortSignal: ctl.signal,
      });
      const chunks: Buffer[] = [];
      const mode = seed % 5;
      try {
        for await (const c of res.Body as AsyncIterable<Buffer>) {
          chunks.push(Buffer.from(c));
          if (mode === 3) {
            ctl.abort();
            return 'cut';
          }
          if (mode === 4) await new Promise((r) => setTimeout(r, 2));
        }
      } catch (err) {
        if (mode === 3) return 'cut';
        throw err;
      }
      const got = Buffer.concat(chunks);
      assert.equal(got.length, end - start + 1, `${o.key} ${start}-${end}: length`);
      assert.equal(sha(got), sha(o.body.subarray(start, end + 1)), `${o.key} ${start}-${end}${o.sse ? ' (SSE-C)' : ''}: bytes`);
      return 'ok';
    }

    async function rounds(n: number, seed0: number): Promise<{ ok: number; cut: number }> {
      let ok = 0;
      let cut = 0;
      for (let round = 0; round < n; round++) {
        const results = await Promise.all(Array.from({ length: 24 }, (_, i) => get(objects[(i + round) % objects.length]!, seed0 + round * 24 + i)));
        ok += results.filter((r) => r === 'ok').length;
        cut += results.filter((r) => r === 'cut').length;
      }
      return { ok, cut };
    }

    it('6 rounds of 24 concurrent GETs (whole, ranged, SSE-C, slow readers, cut off) → every complete body is its object range, byte for byte', async () => {
      const { ok, cut } = await rounds(6, 0);
      assert.ok(ok >= 100 && cut >= 20, `${ok} complete, ${cut} cut`);
      // The server is still whole: each object reads back at once.
      for (const o of objects) assert.equal(await get(o, 0), 'ok');
    });

    if (layout !== 'one directory') {
      it("one drive's shards deleted: 4 more rounds, blocks rebuilt from parity on the fly → every complete body byte for byte", async () => {
        const shards = join(drives[1]!, 'shards');
        let removed = 0;
        for (const d of await readdir(shards)) {
          for (const f of await readdir(join(shards, d))) {
            await unlink(join(shards, d, f));
            removed++;
          }
        }
        assert.ok(removed >= objects.length, `${removed} shard files removed`);
        const { ok, cut } = await rounds(4, 1_000);
        assert.ok(ok >= 60 && cut >= 10, `${ok} complete, ${cut} cut`);
      });
    }
  });
}
