// rclone (Debian 1.60) configured only through RCLONE_CONFIG_STRATA_* environment variables, once
// as provider "Other" (ListObjects V1, no multipart ETag trust) and once as "Minio" (V2 listing,
// url-encoded): mkdir, copy of a tree with odd names and a 12 MiB file in 5 MiB multipart chunks,
// check, lsf -R, copy back down, moveto (server-side copy), delete, rmdir, purge.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RCLONE, describeRun, isolatedClientEnv, newBucketName, run, type RunResult } from '../helpers/clients.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const md5hex = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** The local tree: nested directories, odd names, an empty file and a 12 MiB file (3 chunks of 5 MiB). */
const TREE: Record<string, Buffer> = {
  'top.txt': Buffer.from('top level\n'),
  'a/one.txt': Buffer.from('one\n'),
  'a/b/two.txt': Buffer.from('two\n'),
  'a/b/c/three.bin': randomBytes(70_000),
  'with space/file name.txt': Buffer.from('spaces\n'),
  'plus+sign/a+b=c.txt': Buffer.from('plus\n'),
  'ünïcödé/ğüşiöç 日本.txt': Buffer.from('unicode ✓\n'),
  'percent%20/100%.txt': Buffer.from('percent\n'),
  'empty.txt': Buffer.alloc(0),
  'big/twelve.bin': randomBytes(12 * MiB),
};

/** rclone's `lsf -R` view of TREE: every file, and every directory with a trailing slash, sorted. */
function expectedListing(): string[] {
  const out = new Set<string>();
  for (const rel of Object.keys(TREE)) {
    out.add(rel);
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) out.add(`${parts.slice(0, i).join('/')}/`);
  }
  return [...out].sort();
}

async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p).split(sep).join('/'), await readFile(p));
    }
  };
  await walk(dir);
  return out;
}

for (const provider of ['Other', 'Minio'] as const) {
  describe(`rclone (provider ${provider})`, () => {
    let server: RunningServer;
    let env: NodeJS.ProcessEnv;
    let work: string;
    let cleanupEnv: () => Promise<void>;
    const bucket = newBucketName(`rclone-${provider}`);
    const remote = (path = '') => `strata:${bucket}${path ? `/${path}` : ''}`;

    async function rclone(args: string[], opts: { expectFailure?: boolean } = {}): Promise<RunResult> {
      const r = await run(RCLONE, args, { env, timeoutMs: 120_000, cwd: work });
      if (opts.expectFailure) assert.notEqual(r.code, 0, describeRun(`rclone ${args.join(' ')} (expected to fail)`, r));
      else assert.equal(r.code, 0, `${describeRun(`rclone ${args.join(' ')}`, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      return r;
    }

    /** `rclone lsf -R <path>` as a sorted list. */
    async function lsf(path: string): Promise<string[]> {
      const r = await rclone(['lsf', '-R', path]);
      return r.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort();
    }

    before(async () => {
      server = await startServer();
      const isolated = await isolatedClientEnv();
      work = isolated.dir;
      cleanupEnv = isolated.cleanup;
      const rcloneConfig = join(work, 'rclone.conf');
      await writeFile(rcloneConfig, '');
      env = Object.fromEntries(Object.entries(isolated.env).filter(([k]) => !k.startsWith('RCLONE_')));
      Object.assign(env, {
        RCLONE_CONFIG: rcloneConfig,
        RCLONE_CONFIG_STRATA_TYPE: 's3',
        RCLONE_CONFIG_STRATA_PROVIDER: provider,
        RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: ACCESS_KEY,
        RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: SECRET_KEY,
        RCLONE_CONFIG_STRATA_ENDPOINT: server.url,
        RCLONE_CONFIG_STRATA_REGION: REGION,
      });
      for (const [rel, content] of Object.entries(TREE)) {
        await mkdir(join(work, 'tree', rel, '..'), { recursive: true });
        await writeFile(join(work, 'tree', rel), content);
      }
    });

    after(async () => {
      await server?.stop();
      await cleanupEnv?.();
    });

    it(`rclone mkdir (${provider}) › new bucket → exit 0, listed by lsf`, async () => {
      await rclone(['mkdir', remote()]);
      assert.ok((await lsf('strata:')).includes(`${bucket}/`));
    });

    it(`rclone copy (${provider}) › nested tree with odd names and a 12 MiB file, --s3-chunk-size 5M → every file uploaded, the big one in 3 parts`, async () => {
      const mark = server.logs().length;
      const r = await rclone(['copy', join(work, 'tree'), remote('tree'), '--s3-chunk-size', '5M', '--s3-upload-cutoff', '5M', '-v']);
      assert.match(r.stderr, new RegExp(`Transferred:\\s+${Object.keys(TREE).length} / ${Object.keys(TREE).length}, 100%`), r.stderr);
      const log = await server.accessLog(mark);
      const bigParts = log.filter((l) => l.op === 'UploadPart' && l.key === 'tree/big/twelve.bin');
      assert.deepEqual(
        bigParts.map((l) => l.status),
        [200, 200, 200],
        JSON.stringify(log),
      );
      assert.ok(log.some((l) => l.op === 'CompleteMultipartUpload' && l.key === 'tree/big/twelve.bin' && l.status === 200));
      assert.equal(log.filter((l) => l.op === 'PutObject' && l.status === 200).length, Object.keys(TREE).length - 1);
      assert.deepEqual(
        log.filter((l) => l.status >= 500),
        [],
      );
    });

    it(`rclone check (${provider}) › local tree against the bucket → exit 0, 0 differences, every file matching`, async () => {
      const r = await rclone(['check', join(work, 'tree'), remote('tree')]);
      assert.match(r.stderr, /: 0 differences found/);
      assert.match(r.stderr, new RegExp(`: ${Object.keys(TREE).length} matching files`));
      assert.doesNotMatch(r.stderr, /ERROR|hash differ/);
    });

    it(`rclone lsf -R (${provider}) › the uploaded tree → exactly the local files and directories, listed with ${provider === 'Other' ? 'ListObjects (V1)' : 'ListObjectsV2'}`, async () => {
      const mark = server.logs().length;
      assert.deepEqual(await lsf(remote('tree')), expectedListing());
      const lists = (await server.accessLog(mark)).filter((l) => l.op.startsWith('ListObjects')).map((l) => `${l.op} ${l.status}`);
      assert.ok(lists.length > 0 && lists.every((l) => l === (provider === 'Other' ? 'ListObjects 200' : 'ListObjectsV2 200')), lists.join(', '));
    });

    it(`rclone copy (${provider}) › bucket back down to a new directory → byte-identical tree`, async () => {
      const down = join(work, 'down');
      await rclone(['copy', remote('tree'), down]);
      const got = await readTree(down);
      assert.deepEqual([...got.keys()].sort(), Object.keys(TREE).sort());
      for (const [rel, bytes] of Object.entries(TREE)) assert.equal(md5hex(got.get(rel)!), md5hex(bytes), `content of ${rel}`);
      await rm(down, { recursive: true, force: true });
    });

    it(`rclone moveto (${provider}) › 12 MiB object to a new key with odd characters → server-side CopyObject, source gone, bytes intact`, async () => {
      const mark = server.logs().length;
      const r = await rclone(['moveto', remote('tree/big/twelve.bin'), remote('moved/twelve copy+1 ü.bin'), '-v']);
      assert.match(r.stderr, /Copied \(server-side copy\)/);
      const log = await server.accessLog(mark);
      assert.ok(
        log.some((l) => l.op === 'CopyObject' && l.key === 'moved/twelve copy+1 ü.bin' && l.status === 200),
        JSON.stringify(log),
      );
      assert.deepEqual(
        log.filter((l) => l.op === 'PutObject' || l.op === 'UploadPart' || l.op === 'GetObject'),
        [],
        'no bytes through the client',
      );
      assert.ok(log.some((l) => l.op === 'DeleteObject' && l.key === 'tree/big/twelve.bin' && l.status === 204));

      const listing = await lsf(remote());
      assert.ok(listing.includes('moved/twelve copy+1 ü.bin'), listing.join('\n'));
      assert.ok(!listing.includes('tree/big/twelve.bin'), listing.join('\n'));
      const local = join(work, 'moved.bin');
      await rclone(['copyto', remote('moved/twelve copy+1 ü.bin'), local]);
      assert.equal(md5hex(await readFile(local)), md5hex(TREE['big/twelve.bin']!));
      await rm(local);
    });

    it(`rclone delete (${provider}) › the tree prefix → its files gone, the moved object kept`, async () => {
      const r = await rclone(['delete', remote('tree'), '-v']);
      assert.equal(r.stderr.match(/: Deleted/g)?.length, Object.keys(TREE).length - 1, r.stderr);
      assert.deepEqual(await lsf(remote()), ['moved/', 'moved/twelve copy+1 ü.bin']);
    });

    it(`rclone rmdir / purge (${provider}) › non-empty bucket → rmdir fails BucketNotEmpty; purge → bucket gone; empty bucket → rmdir removes it`, async () => {
      const refused = await rclone(['rmdir', remote(), '--retries', '1'], { expectFailure: true });
      assert.match(refused.stderr, /BucketNotEmpty/);
      await rclone(['purge', remote()]);
      assert.ok(!(await lsf('strata:')).includes(`${bucket}/`));

      const empty = `${bucket.slice(0, 50)}-empty`;
      await rclone(['mkdir', `strata:${empty}`]);
      assert.ok((await lsf('strata:')).includes(`${empty}/`));
      await rclone(['rmdir', `strata:${empty}`]);
      assert.ok(!(await lsf('strata:')).includes(`${empty}/`));
    });
  });
}
