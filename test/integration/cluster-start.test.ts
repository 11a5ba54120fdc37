// How a gateway on PostgreSQL (--meta postgres://…) starts and refuses to start (docs/cluster.md):
// PostgreSQL unreachable at start → retried for --meta-wait, then exit 1 naming the database (its
// password hidden); PostgreSQL coming up within the wait → the gateway serves; a directory holding a
// SQLite meta.db, or another database's directory, is refused before anything is touched; a
// SQLite server is refused on a directory gateways hold; bad flags exit 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { run } from '../helpers/clients.js';
import { freePort, type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { testClient } from '../helpers/s3.js';
import { MAIN_JS, REPO_ROOT, startServer } from '../helpers/server.js';

/** Runs a server that must fail to start: its exit code and stderr. */
async function failedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const r = await run(process.execPath, [MAIN_JS, '--address', '127.0.0.1:0', '--console-address', 'off', '--workers', '1', ...args], {
    cwd: REPO_ROOT,
    timeoutMs: 60_000,
  });
  assert.equal(r.timedOut, false, 'the start must end by itself');
  return { code: r.code, stderr: r.stderr };
}

describe('gateway start on PostgreSQL', () => {
  let pg: PostgresCluster;
  const dirs: string[] = [];
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'strata-gwstart-'));
    dirs.push(d);
    return d;
  };
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.dispose();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('PostgreSQL unreachable: retried for --meta-wait, then exit 1 with the database named, password hidden', async () => {
    const port = await freePort();
    const dir = await newDir();
    const r = await failedStart(['--data', dir, '--meta', `postgres://strata:hunter2@127.0.0.1:${port}/nowhere`, '--meta-wait', '2']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /PostgreSQL at postgres:\/\/strata:\*\*\*@127\.0\.0\.1:\d+\/nowhere did not answer within 2 s \(--meta-wait\)/);
    assert.ok(!r.stderr.includes('hunter2'));
    assert.ok(!existsSync(join(dir, 'meta.db')));
    assert.ok(!existsSync(join(dir, 'namespace.json')));
  });

  it("a database that does not exist: exit 1 at once with PostgreSQL's reason", async () => {
    const r = await failedStart(['--data', await newDir(), '--meta', pg.url('no_such_db'), '--meta-wait', '30']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /PostgreSQL at .*no_such_db: opening the metadata store failed: .*does not exist/);
  });

  it('PostgreSQL coming up during the wait: the gateway starts and serves', async () => {
    const url = await pg.createDatabase();
    const dir = await newDir();
    await pg.stop();
    // The server is started by hand so that PostgreSQL comes back only once it said it is waiting.
    const child = spawn(
      process.execPath,
      [MAIN_JS, '--address', '127.0.0.1:0', '--console-address', 'off', '--workers', '1', '--data', dir, '--meta', url, '--meta-wait', '60'],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const seen = async (re: RegExp, what: string) => {
        for (let i = 0; i < 600 && !re.test(out); i++) await sleep(50);
        assert.match(out, re, what);
      };
      await seen(/PostgreSQL does not answer yet: retrying/, 'the wait logged');
      await pg.start();
      await seen(/"msg":"listening"/, 'listening once PostgreSQL is back');
      const listening = out.split('\n').find((l) => l.includes('"msg":"listening"'))!;
      const port = (JSON.parse(listening) as { port: number }).port;
      const s3 = testClient(`http://127.0.0.1:${port}`);
      await s3.send(new CreateBucketCommand({ Bucket: 'late' }));
      await s3.send(new PutObjectCommand({ Bucket: 'late', Key: 'k', Body: 'v' }));
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'late', Key: 'k' }))).Body!.transformToString(), 'v');
      s3.destroy();
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('a directory with a SQLite meta.db is refused, and so is a directory of another database; their files stay', async () => {
    const sqliteDir = await newDir();
    const plain = await startServer({ dataDir: sqliteDir, args: ['--workers', '1'] });
    await plain.stop();
    assert.ok(existsSync(join(sqliteDir, 'meta.db')));
    const r1 = await failedStart(['--data', sqliteDir, '--meta', await pg.createDatabase()]);
    assert.equal(r1.code, 1, r1.stderr);
    assert.match(r1.stderr, /holds a SQLite metadata database \(meta\.db\): it belongs to a server without --meta/);

    const dir = await newDir();
    const first = await startServer({ dataDir: dir, args: ['--meta', await pg.createDatabase(), '--workers', '1'] });
    const s3 = testClient(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'mine' }));
    await s3.send(new PutObjectCommand({ Bucket: 'mine', Key: 'big', Body: Buffer.alloc(300_000, 7) }));
    s3.destroy();
    await first.stop();
    const before = readdirSync(join(dir, 'objects'), { recursive: true }).length;
    const r2 = await failedStart(['--data', dir, '--meta', await pg.createDatabase()]);
    assert.equal(r2.code, 1, r2.stderr);
    assert.match(r2.stderr, /belongs to another metadata database/);
    assert.equal(readdirSync(join(dir, 'objects'), { recursive: true }).length, before);
    assert.ok(!existsSync(join(dir, 'meta.db')));
  });

  it('a SQLite server is refused on a directory a gateway holds', async () => {
    const dir = await newDir();
    const gateway = await startServer({ dataDir: dir, args: ['--meta', await pg.createDatabase(), '--workers', '1'] });
    try {
      const r = await failedStart(['--data', dir]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /in use|locked|another/i);
      assert.ok(!existsSync(join(dir, 'meta.db')));
    } finally {
      await gateway.stop();
    }
  });

  it("a gateway's start leaves other gateways' temp files alone; only old ones go (the shared rules)", async () => {
    const dir = await newDir();
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    // A write in progress in another gateway: its temp file is younger than any sweep cutoff (the
    // mtime ahead of the clock makes that independent of how long the start takes). A leftover of
    // a crash long ago: an hour old. A server alone on its directory would remove both at start.
    const inProgress = join(dir, 'tmp', '0123456789abcdef0123456789abcdef');
    const leftover = join(dir, 'tmp', 'fedcba9876543210fedcba9876543210');
    writeFileSync(inProgress, 'partial');
    writeFileSync(leftover, 'old');
    const soon = new Date(Date.now() + 600_000);
    const hourAgo = new Date(Date.now() - 3600_000);
    utimesSync(inProgress, soon, soon);
    utimesSync(leftover, hourAgo, hourAgo);
    const gateway = await startServer({ dataDir: dir, args: ['--meta', await pg.createDatabase(), '--workers', '1'] });
    try {
      // The jobs leader's first orphan sweep runs at start: the old one goes (bounded wait)…
      for (let i = 0; i < 200 && existsSync(leftover); i++) await sleep(50);
      assert.ok(!existsSync(leftover), 'the old temp file is swept');
      // …the young one stays.
      assert.ok(existsSync(inProgress));
    } finally {
      await gateway.stop();
    }
  });

  it('bad flags exit 2 with the reason', async () => {
    const dir = await newDir();
    const two = await failedStart(['--data', `${dir}/a,${dir}/b`, '--meta', pg.url()]);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /--meta postgres:\/\/… works with one --data directory/);
    const no = await failedStart(['--data', dir, '--meta', pg.url(), '--shared', 'no']);
    assert.equal(no.code, 2);
    assert.match(no.stderr, /--shared no contradicts/);
  });
});
