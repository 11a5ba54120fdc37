// --workers 2: a cluster primary and two worker processes serving one port and one data directory,
// driven by real clients over fresh connections (each a new TCP connection, so the primary's
// round-robin hands them to the workers in turn). Which worker served a request is the `pid` of its
// access-log line. What must hold (docs/ARCHITECTURE.md "Workers"):
// - both workers serve; what one acknowledged, every other connection reads at once;
// - a multipart upload whose parts land on different workers completes, byte for byte;
// - a user disabled through the admin API is refused on the next request in every worker;
// - a worker SIGKILLed is replaced, and service goes on; SIGTERM to the primary stops every process, exit 0;
// - another server on the directory (plain, --shared yes, --workers 2) is refused while it runs;
// - the primary SIGKILLed: its workers exit, and a new server on the directory starts;
// - a port in use stops the start with the worker's error (no loop); TLS and --health-address work.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { adminCall } from '../helpers/admin.js';
import { writeSelfSignedCert } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const MiB = 1024 * 1024;
const WORKERS = ['--workers', '2'];
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const root = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

async function until(cond: () => boolean | Promise<boolean>, what: string, limitMs = 20_000): Promise<void> {
  for (const end = Date.now() + limitMs; Date.now() < end; ) {
    if (await cond()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting: ${what}`);
}

/** The pid of each access-log line after offset `from` whose op is `op` (and key starts with `key`, when given). */
async function servedBy(server: RunningServer, from: number, op: string, key?: string): Promise<number[]> {
  await server.accessLog(from); // settles the output
  return server
    .logs()
    .slice(from)
    .split('\n')
    .filter((l) => l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l) as { pid: number; op: string; key?: string })
    .filter((l) => l.op === op && (key === undefined || l.key?.startsWith(key)))
    .map((l) => l.pid);
}

/** Alive and not a zombie. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('--workers 2: one server, two worker processes', () => {
  let server: RunningServer;
  const fresh = () => testClient(server.url, { keepAlive: false });
  const bucket = 'workers';

  before(async () => {
    server = await startServer({ args: WORKERS, users: [{ name: 'second', policies: ['readwrite'] }] });
    await fresh().send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(async () => {
    await server?.stop();
  });

  it('start › one `listening` line from the primary (workers: 2, the port both workers share), one start line; two worker processes, children of the primary', async () => {
    const listening = server
      .logs()
      .split('\n')
      .filter((l) => l.includes('"msg":"listening"'))
      .map((l) => JSON.parse(l) as { pid: number; port: number; workers: number });
    assert.deepEqual(listening, [{ ...listening[0]!, pid: server.pid, port: server.port, workers: 2 }]);
    assert.equal(server.stderr().match(/Strata is serving S3/g)?.length, 1, server.stderr());
    const pids = server.workerPids();
    assert.equal(pids.length, 2);
    assert.ok(!pids.includes(server.pid));
  });

  it('serving › requests on fresh connections are served by both workers (pids of the access-log lines), never by the primary', async () => {
    const from = server.logs().length;
    for (let i = 0; i < 8; i++) await fresh().send(new PutObjectCommand({ Bucket: bucket, Key: `spread/${i}`, Body: `body ${i}` }));
    const pids = await servedBy(server, from, 'PutObject', 'spread/');
    assert.equal(pids.length, 8);
    assert.deepEqual([...new Set(pids)].sort(), server.workerPids().sort());
  });

  it('consistency › written on one connection, read at once on ten fresh ones (both workers): the new bytes every time, also after an overwrite', async () => {
    const writer = testClient(server.url);
    for (const round of [1, 2]) {
      const body = randomBytes(3000 + round); // inline
      await writer.send(new PutObjectCommand({ Bucket: bucket, Key: 'seen', Body: body }));
      const from = server.logs().length;
      for (let i = 0; i < 10; i++) {
        const got = await (await fresh().send(new GetObjectCommand({ Bucket: bucket, Key: 'seen' }))).Body!.transformToByteArray();
        assert.equal(md5(got), md5(body), `round ${round}, read ${i}`);
      }
      assert.equal(new Set(await servedBy(server, from, 'GetObject', 'seen')).size, 2, 'both workers read it');
    }
    writer.destroy();
  });

  it('multipart › parts uploaded on fresh connections land on both workers; the upload completes and reads back whole', async () => {
    const s3 = fresh();
    const key = 'mp/object';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    const from = server.logs().length;
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1000)];
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      etags.push((await fresh().send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }))).ETag!);
    }
    assert.equal(new Set(await servedBy(server, from, 'UploadPart', key)).size, 2, 'the parts went to both workers');
    await fresh().send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const got = await (await fresh().send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray();
    assert.equal(md5(got), md5(Buffer.concat(parts)));
  });

  it('identities › a user disabled through the admin API is refused on its next request in every worker (both had it cached), and served again once enabled', async () => {
    const user = server.users[0]!;
    const as = () => testClient(server.url, { keepAlive: false, credentials: { accessKeyId: user.accessKey, secretAccessKey: user.secretKey } });
    await fresh().send(new PutObjectCommand({ Bucket: bucket, Key: 'user/probe', Body: 'x' }));
    let from = server.logs().length;
    for (let i = 0; i < 4; i++) await as().send(new GetObjectCommand({ Bucket: bucket, Key: 'user/probe' }));
    assert.equal(new Set(await servedBy(server, from, 'GetObject', 'user/')).size, 2, 'both workers served (and cached) the user');

    assert.equal((await adminCall(server.url, root, 'POST', `users/${user.name}/disable`)).status, 200);
    from = server.logs().length;
    for (let i = 0; i < 6; i++) {
      const err = await errorOf(as().send(new GetObjectCommand({ Bucket: bucket, Key: 'user/probe' })));
      assert.equal(err.name, 'InvalidAccessKeyId', `request ${i}`);
    }
    assert.equal(new Set(await servedBy(server, from, 'GetObject', 'user/')).size, 2, 'both workers refused the user');

    assert.equal((await adminCall(server.url, root, 'POST', `users/${user.name}/enable`)).status, 200);
    for (let i = 0; i < 4; i++) await as().send(new GetObjectCommand({ Bucket: bucket, Key: 'user/probe' }));
  });

  it('another server on the directory › refused while it runs: plain, --shared yes, --workers 2 (each names the directory)', async () => {
    for (const args of [['--workers', '1'], ['--workers', '1', '--shared', 'yes'], WORKERS]) {
      await assert.rejects(
        startServer({ dataDir: server.dataDir, args }),
        (e: Error) => e.message.includes(`data directory ${server.dataDir} is in use`),
        args.join(' '),
      );
    }
    await fresh().send(new GetObjectCommand({ Bucket: bucket, Key: 'seen' }));
  });

  it('a worker SIGKILLed › logged, replaced by a new worker; requests on fresh connections go on (on both workers)', async () => {
    const [victim, survivor] = server.workerPids();
    process.kill(victim!, 'SIGKILL');
    await until(() => {
      const now = server.workerPids();
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!);
    }, 'a replacement worker');
    await until(() => server.logs().includes('"msg":"worker exited unexpectedly: starting another"'), 'the log line');
    const line = JSON.parse(
      server
        .logs()
        .split('\n')
        .find((l) => l.includes('worker exited unexpectedly'))!,
    ) as { pid: number; signal: string };
    assert.deepEqual([line.pid, line.signal], [victim, 'SIGKILL']);
    // The replacement serves once it listens (before that, the survivor takes every connection).
    const replacement = server.workerPids().find((p) => p !== survivor)!;
    await until(async () => {
      const from = server.logs().length;
      await fresh().send(new GetObjectCommand({ Bucket: bucket, Key: 'seen' }));
      return (await servedBy(server, from, 'GetObject', 'seen')).includes(replacement);
    }, 'the replacement serving');
  });
});

describe('--workers 2: stopping, crashing, failing to start', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-workers-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM to the primary › every worker drains and exits, then the primary, exit 0', async () => {
    const server = await startServer({ dataDir: dir, args: WORKERS });
    try {
      const pids = server.workerPids();
      assert.equal(pids.length, 2);
      process.kill(server.pid, 'SIGTERM');
      assert.deepEqual(await server.exited, { code: 0, signal: null });
      for (const pid of pids) assert.ok(!running(pid), `worker ${pid} is gone`);
      assert.equal(server.logs().match(/"msg":"stopped"/g)?.length, 3, 'each worker and the primary stopped');
    } finally {
      await server.stop();
    }
  });

  it('SIGKILL to the primary › its workers exit by themselves; a new server on the directory starts and has the data', async () => {
    const first = await startServer({ dataDir: dir, args: WORKERS });
    const pids = first.workerPids();
    try {
      await testClient(first.url).send(new CreateBucketCommand({ Bucket: 'survives' }));
      await testClient(first.url).send(new PutObjectCommand({ Bucket: 'survives', Key: 'k', Body: 'kept' }));
      process.kill(first.pid, 'SIGKILL');
      await first.exited;
    } finally {
      await first.stop();
    }
    // No sleep: the new server itself waits for lingering workers (the workers lock), bounded.
    const second = await startServer({ dataDir: dir, args: WORKERS });
    try {
      for (const pid of pids) assert.ok(!running(pid), `worker ${pid} of the killed primary is gone`);
      const got = await testClient(second.url, { keepAlive: false }).send(new GetObjectCommand({ Bucket: 'survives', Key: 'k' }));
      assert.equal(await got.Body!.transformToString(), 'kept');
    } finally {
      await second.stop();
    }
  });

  it("a crash's orphan piece, written just before the start › removed by the workers' first sweep (the primary's takeover time), not hours later", async () => {
    // The directory with its database (a piece without one is refused at start), then a piece no
    // metadata references, as a process killed between writing it and committing leaves it. It is
    // younger than the sweeps' 1 s margin when the workers' first sweep runs; only the primary's
    // takeover (before any worker started) says that no live process can have written it.
    const d = await mkdtemp(join(tmpdir(), 'strata-workers-orphan-'));
    try {
      const first = await startServer({ dataDir: d, args: WORKERS });
      await first.stop();
      const id = `ab${randomBytes(15).toString('hex')}`;
      const orphan = join(d, 'objects', 'ab', id);
      mkdirSync(join(d, 'objects', 'ab'), { recursive: true });
      writeFileSync(orphan, randomBytes(1000));
      const server = await startServer({ dataDir: d, args: WORKERS, env: { STRATA_FREE_GRACE: '1' } });
      try {
        // The sweep frees it like replaced data (a 1 s grace here, then the reaper unlinks it).
        await until(() => !existsSync(orphan), 'the orphan is removed', 10_000);
        assert.match(server.logs(), /removed orphaned data left by an earlier crash/);
      } finally {
        await server.stop();
      }
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  });

  it("the port is in use › the start fails with the worker's error (EADDRINUSE), the primary exits non-zero, no worker stays", async () => {
    const blocker = net.createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', ok));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startServer({ dataDir: dir, args: [...WORKERS, '--address', `127.0.0.1:${port}`] }),
        (e: Error) => /exit code 1\b/.test(e.message) && /EADDRINUSE/.test(e.message),
      );
      // Nothing holds the directory any more.
      const next = await startServer({ dataDir: dir, args: ['--workers', '1'] });
      await next.stop();
    } finally {
      blocker.close();
    }
  });

  it('TLS and --health-address › served by the workers: `listening` names healthPort and tls; HTTPS and the health port answer on fresh connections', async () => {
    const certDir = await mkdtemp(join(tmpdir(), 'strata-workers-certs-'));
    try {
      await writeSelfSignedCert(certDir);
      const server = await startServer({ dataDir: dir, args: [...WORKERS, '--certs', certDir, '--health-address', '127.0.0.1:0'], tls: true });
      try {
        const line = JSON.parse(
          server
            .logs()
            .split('\n')
            .find((l) => l.includes('"msg":"listening"'))!,
        ) as { tls: boolean; healthPort: number; workers: number };
        assert.equal(line.tls, true);
        assert.equal(line.workers, 2);
        for (let i = 0; i < 4; i++) {
          assert.equal((await fetch(`http://127.0.0.1:${line.healthPort}/health/live`)).status, 200);
          const status = await new Promise<number>((ok, fail) =>
            https
              .get(`${server.url}/health/ready`, { rejectUnauthorized: false, agent: false }, (res) => {
                res.resume();
                ok(res.statusCode!);
              })
              .on('error', fail),
          );
          assert.equal(status, 200);
        }
      } finally {
        await server.stop();
      }
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  });

  it('a certificate file that is missing › refused by the primary before any worker starts, with the file named, exit 1', async () => {
    await assert.rejects(
      startServer({ dataDir: dir, args: [...WORKERS, '--tls-cert', join(dir, 'nope.crt'), '--tls-key', join(dir, 'nope.key')] }),
      (e: Error) => e.message.includes('nope.crt') && /exit code 1\b/.test(e.message),
    );
    assert.ok(existsSync(dir));
  });
});
