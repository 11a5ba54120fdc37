// Disk full, for real: the data directory is a small tmpfs (needs root and mount; without them
// every test here fails saying so, never skips) filled up with a filler file. A PUT (and an UploadPart) that does not fit fails
// with 500 InternalError and a clear message (docs/errors.md: AWS has no insufficient-storage
// code), leaves no temp file, no orphan piece and no object; reads keep working; once space is
// freed, writes work again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, statfs, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, leakIn, rawExchange, signRequest, type RawResponse } from './raw-http.js';

const FS_SIZE = 24 * 1024 * 1024;
const BUCKET = 'disk-full';

/** Mounts a tmpfs of `bytes` at a new directory, or explains why it cannot. */
async function mountTmpfs(bytes: number): Promise<{ dir: string } | { problem: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return { problem: `cannot mount a tmpfs here (needs root): ${(err as Error).message.split('\n')[0]}` };
  }
}

const mounted = await mountTmpfs(FS_SIZE);

// Counted as a failed test (the suite's failing hook below only cancels its tests).
it('disk full › prerequisites: a small tmpfs can be mounted (root)', () => {
  assert.ok(!('problem' in mounted), 'problem' in mounted ? mounted.problem : '');
});

describe('disk full (a real, small tmpfs)', { timeout: 90_000 }, () => {
  const mount = 'dir' in mounted ? mounted.dir : '';
  const dataDir = join(mount, 'data');
  const filler = join(mount, 'filler');
  let server: RunningServer;

  async function send(method: string, path: string, o: { body?: Buffer | string; query?: Record<string, string> } = {}): Promise<RawResponse> {
    const s = await signRequest({ method, port: server.port, path, body: o.body, query: o.query });
    return rawExchange(server.port, buildRequest({ method, target: s.target, headers: s.headers, body: o.body }), {
      head: method === 'HEAD',
      timeoutMs: 30_000,
    });
  }

  const tmpFiles = () => readdir(join(dataDir, 'tmp'));
  async function pieces(): Promise<string[]> {
    const out: string[] = [];
    for (const shard of await readdir(join(dataDir, 'objects'))) out.push(...(await readdir(join(dataDir, 'objects', shard))));
    return out.sort();
  }
  const freeBytes = async () => {
    const s = await statfs(mount);
    return s.bavail * s.bsize;
  };

  /** Grows the filler file until only `leave` bytes are free (0: completely full). */
  async function fill(leave: number): Promise<void> {
    const fh = await open(filler, 'a');
    try {
      const chunk = Buffer.alloc(256 * 1024, 0x5a);
      for (;;) {
        const free = await freeBytes();
        if (free <= leave) break;
        const n = Math.min(chunk.length, free - leave);
        try {
          await fh.write(chunk, 0, n);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    } finally {
      await fh.close();
    }
  }

  /** The answer to a write that did not fit: 500 InternalError, saying why, leaking nothing. */
  function assertNoSpace(res: RawResponse, what: string): void {
    const err = assertS3Error(res, what);
    assert.equal(res.status, 500, `${what}: ${res.body}`);
    assert.equal(err.code, 'InternalError');
    assert.match(err.message, /not enough free space/);
    assert.equal(leakIn(res.body.toString(), [mount, REPO_ROOT.replace(/\/$/, '')]), undefined, res.body.toString());
  }

  before(async () => {
    // Fail, never skip: the README promises that nothing is skipped (CI runs as root).
    if ('problem' in mounted) throw new Error(`${mounted.problem}; the disk-full tests need a real small file system: run them as root`);
    server = await startServer({ args: ['--data', dataDir] });
    assert.equal((await send('PUT', `/${BUCKET}`)).status, 200);
  });

  after(async () => {
    await server?.stop();
    if (mount) {
      try {
        execFileSync('umount', [mount], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mount], { stdio: 'pipe' });
      }
      await rm(mount, { recursive: true, force: true });
    }
  });

  it('PutObject › does not fit → 500 InternalError "not enough free space"; no temp file, no orphan piece, no object; reads still work', async () => {
    const small = randomBytes(1000);
    assert.equal((await send('PUT', `/${BUCKET}/before`, { body: small })).status, 200);
    const piecesBefore = await pieces();
    await fill(1024 * 1024);
    const big = randomBytes(3 * 1024 * 1024);
    const res = await send('PUT', `/${BUCKET}/too-big`, { body: big });
    assertNoSpace(res, 'PUT 3 MiB into 1 MiB');
    assert.deepEqual(await tmpFiles(), [], 'a temp file remained');
    assert.deepEqual(await pieces(), piecesBefore, 'an orphan piece remained');
    assert.equal((await send('HEAD', `/${BUCKET}/too-big`)).status, 404);
    const get = await send('GET', `/${BUCKET}/before`);
    assert.equal(get.status, 200);
    assert.ok(get.body.equals(small));
  });

  it('UploadPart › does not fit → the same answer; the upload has no part', async () => {
    const init = await send('POST', `/${BUCKET}/mpu`, { query: { uploads: '' } });
    assert.equal(init.status, 200, init.body.toString());
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(init.body.toString())![1]!;
    const piecesBefore = await pieces();
    const res = await send('PUT', `/${BUCKET}/mpu`, { query: { partNumber: '1', uploadId }, body: randomBytes(3 * 1024 * 1024) });
    assertNoSpace(res, 'UploadPart 3 MiB into 1 MiB');
    assert.deepEqual(await tmpFiles(), []);
    assert.deepEqual(await pieces(), piecesBefore);
    const parts = await send('GET', `/${BUCKET}/mpu`, { query: { uploadId } });
    assert.equal(parts.status, 200);
    assert.doesNotMatch(parts.body.toString(), /<Part>/);
    assert.equal((await send('DELETE', `/${BUCKET}/mpu`, { query: { uploadId } })).status, 204);
  });

  it('completely full › a small PUT fails cleanly (or is stored whole); never half-written', async () => {
    await fill(0);
    const piecesBefore = await pieces();
    let stored = 0;
    for (const [key, body] of [
      ['tiny', randomBytes(5000)],
      ['empty', Buffer.alloc(0)],
    ] as const) {
      const res = await send('PUT', `/${BUCKET}/${key}`, { body });
      if (process.env.DISK_FULL_VERBOSE) console.log(`PUT ${key} at 0 bytes free → ${res.status} ${res.body.toString()}`);
      if (res.status === 200) {
        stored++;
        // The metadata commit found room (the WAL reuses its pages): then the object is whole.
        const get = await send('GET', `/${BUCKET}/${key}`);
        assert.ok(get.body.equals(body), `${key} stored but not whole`);
      } else {
        assertNoSpace(res, `PUT ${key} at 0 bytes free`);
        assert.equal((await send('HEAD', `/${BUCKET}/${key}`)).status, 404);
      }
    }
    assert.deepEqual(await tmpFiles(), []);
    const added = (await pieces()).filter((p) => !piecesBefore.includes(p));
    assert.ok(added.length <= stored, `orphan pieces: ${added.join(', ')}`);
    assert.equal((await send('GET', '/')).status, 200);
  });

  it('space comes back › the same PUT succeeds and reads back exactly; the log called it a server error, not a crash', async () => {
    await unlink(filler);
    const big = randomBytes(3 * 1024 * 1024);
    const res = await send('PUT', `/${BUCKET}/too-big`, { body: big });
    assert.equal(res.status, 200, res.body.toString());
    const get = await send('GET', `/${BUCKET}/too-big`);
    assert.ok(get.body.equals(big));
    assert.equal((await send('PUT', `/${BUCKET}/empty-after`, { body: '' })).status, 200);
    const logs = server.logs();
    if (process.env.DISK_FULL_VERBOSE)
      console.log(
        logs
          .split('\n')
          .filter((l) => /"level":50/.test(l))
          .map((l) => l.slice(0, 400))
          .join('\n'),
      );
    assert.match(logs, /not enough free space|no space left/i);
    assert.doesNotMatch(logs, /unhandled error/);
  });
});
