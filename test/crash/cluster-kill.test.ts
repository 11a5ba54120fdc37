// Issue 17, reliability: SIGKILL of a gateway in the middle of a write, while a PUT/GET load runs
// through the random front on the other gateways (test/crash/cluster-load.ts). Each round picks a
// victim and kills it twice, restarting it in between:
//  - mid-upload: a 48 MiB PUT streaming straight to the victim, killed once 8 MiB went out; the key
//    held an older version, which is what every gateway serves afterwards, whole;
//  - mid-completion: CompleteMultipartUpload of a 6-part upload sent straight to the victim, killed
//    0 to 2000 milliseconds after the request went out: acknowledged → the new object; no answer → the
//    old object or the new one, never a mix (the ETag names the bytes); if old, the upload is still
//    there and completes through another gateway.
// After each kill the victim restarts on the same data directory and PostgreSQL and serves again (it
// joins: the cluster status lists it). At the end every acknowledged write of the load is readable,
// whole, through every gateway. STRATA_CLUSTER_SEED replays the choices (timing still varies).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Cluster, clusterStatus, type Gateway, startCluster } from '../helpers/cluster.js';
import { newBucketName } from '../helpers/clients.js';
import { testSigner } from '../helpers/s3.js';
import { ClusterLoad, failureKind } from './cluster-load.js';
import { crashClient } from './cycles.js';
import { Prng, bodyOf, md5Hex, sha256Hex, sleep } from './harness.js';

const SEED = process.env.STRATA_CLUSTER_SEED ? Number(process.env.STRATA_CLUSTER_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const ROUNDS = 3;
const MiB = 1024 * 1024;

/** Reads a key whole; returns its sha256 and ETag. */
async function readWhole(s3: S3Client, bucket: string, key: string): Promise<{ sha: string; etag: string; md5: string; size: number }> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  return { sha: sha256Hex(bytes), etag: got.ETag ?? '', md5: `"${md5Hex(bytes)}"`, size: bytes.length };
}

/**
 * A signed UNSIGNED-PAYLOAD PUT of `size` bytes streamed to `url` in 1 MiB writes; `onSent(bytes)`
 * after each. Resolves with the status, or 'net' when the connection died first.
 */
async function streamingPut(url: string, path: string, size: number, onSent: (bytes: number) => void): Promise<number | 'net'> {
  const { hostname, port } = new URL(url);
  const signed = await testSigner.sign({
    method: 'PUT',
    protocol: 'http:',
    hostname,
    port: Number(port),
    path,
    query: {},
    headers: { host: `${hostname}:${port}`, 'content-length': String(size), 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return new Promise((resolve) => {
    const req = http.request({ host: hostname, port, method: 'PUT', path, headers: signed.headers as Record<string, string>, timeout: 60_000 });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve('net'));
    let sent = 0;
    const chunk = bodyOf(SEED, 'stream-chunk', MiB);
    const pump = () => {
      while (sent < size && !req.destroyed) {
        const n = Math.min(MiB, size - sent);
        sent += n;
        const more = req.write(n === MiB ? chunk : chunk.subarray(0, n));
        onSent(sent);
        if (!more) return void req.once('drain', pump);
        // Slow enough that the kill lands in the middle.
        return void setTimeout(pump, 20);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

describe('cluster reliability › SIGKILL of a gateway mid-upload and mid-completion', () => {
  let cluster: Cluster;
  let s3: S3Client;
  const bucket = newBucketName('cl-kill');
  const rnd = new Prng(SEED);

  before(async () => {
    cluster = await startCluster({ gateways: 3, etcdMembers: 1 });
    s3 = crashClient(cluster.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await cluster?.stop();
  });

  /** The victim is back: restarted, it serves `key` as `sha` (and is in the front again). */
  async function rejoin(victim: Gateway, key: string, sha: string): Promise<void> {
    await victim.restart();
    const c = crashClient(victim.url());
    try {
      assert.equal((await readWhole(c, bucket, key)).sha, sha, `the restarted gateway ${victim.slot} serves ${key}`);
    } finally {
      c.destroy();
    }
    // It joins: every gateway's cluster status lists the new process as live (bounded wait: a heartbeat).
    const pid = victim.server!.pid;
    for (let i = 0; ; i++) {
      const answers = await Promise.all(cluster.gateways.map((g) => clusterStatus(g.url())));
      if (answers.every((a) => a?.gateways.some((x) => x.pid === pid && x.live))) break;
      assert.ok(i < 75, `the restarted gateway (pid ${pid}) is listed live by every gateway: ${JSON.stringify(answers.map((a) => a?.gateways))}`);
      await sleep(200);
    }
  }

  it(`${ROUNDS} rounds (seed ${SEED}): every acknowledged write survives, no torn object, the killed gateway rejoins`, { timeout: 600_000 }, async (t) => {
    const load = new ClusterLoad(s3, bucket, SEED);
    load.start(3, 4, 5000);
    let completionsCut = 0;
    let cutButCommitted = 0;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const victim = cluster.gateways[round % cluster.gateways.length]!;

        // --- mid-upload -----------------------------------------------------------------------
        const upKey = `victim/upload-${round}`;
        const old = bodyOf(SEED, `${upKey}#old`, 100_000);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: upKey, Body: old }));
        let killing: Promise<void> | undefined;
        const status = await streamingPut(victim.url(), `/${bucket}/${upKey}`, 48 * MiB, (sent) => {
          if (sent >= 8 * MiB && !killing) killing = victim.kill('SIGKILL');
        });
        await killing;
        assert.equal(status, 'net', `the streaming PUT must be cut by the kill (got ${status})`);
        for (const g of cluster.gateways.filter((x) => x.server)) {
          const c = crashClient(g.url());
          try {
            const r = await readWhole(c, bucket, upKey);
            assert.equal(r.sha, sha256Hex(old), `gateway ${g.slot}: ${upKey} after the cut upload is the old version, whole`);
            assert.equal(r.etag, r.md5);
          } finally {
            c.destroy();
          }
        }
        await rejoin(victim, upKey, sha256Hex(old));

        // --- mid-completion -------------------------------------------------------------------
        const mpKey = `victim/complete-${round}`;
        const prior = bodyOf(SEED, `${mpKey}#old`, 50_000);
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: mpKey, Body: prior }));
        const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: mpKey }));
        const parts = Array.from({ length: 6 }, (_, i) => bodyOf(SEED, `${mpKey}#part${i}`, i < 5 ? 5 * MiB : 123_456));
        const etags: string[] = [];
        for (const [i, p] of parts.entries())
          etags.push((await s3.send(new UploadPartCommand({ Bucket: bucket, Key: mpKey, UploadId, PartNumber: i + 1, Body: p }))).ETag!);
        const whole = sha256Hex(Buffer.concat(parts));
        const direct = crashClient(victim.url());
        const completing = direct
          .send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: mpKey,
              UploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            }),
          )
          .then(
            (r) => ({ acked: true as const, etag: r.ETag }),
            (err: unknown) => ({ acked: false as const, kind: failureKind(err) }),
          );
        // Early, midway, late: round r waits within [0, 10), [10, 60), [150, 2000) ms before the kill.
        const [lo, hi] = (
          [
            [0, 9],
            [10, 59],
            [150, 1999],
          ] as const
        )[round % 3]!;
        await sleep(rnd.int(lo, hi));
        await victim.kill('SIGKILL');
        const outcome = await completing;
        direct.destroy();
        if (!outcome.acked) {
          assert.equal(outcome.kind, 'net', 'a completion cut by the kill has no answer');
          completionsCut++;
        }
        const now = await readWhole(s3, bucket, mpKey);
        if (now.sha === whole) {
          if (!outcome.acked) cutButCommitted++;
          assert.match(now.etag, /-6"$/, 'the completed object has its multipart ETag');
          if (outcome.acked) assert.equal(now.etag, outcome.etag);
        } else {
          assert.equal(now.sha, sha256Hex(prior), `${mpKey} is neither the old object nor the completed one (torn)`);
          assert.equal(now.etag, now.md5, 'the old object keeps its own ETag');
          assert.ok(!outcome.acked, 'an acknowledged completion is lost');
          // The upload survived the cut: it completes through another gateway.
          const listed = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: mpKey }));
          assert.deepEqual(
            (listed.Uploads ?? []).map((u) => u.UploadId),
            [UploadId],
          );
          await s3.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: mpKey,
              UploadId,
              MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
            }),
          );
          assert.equal((await readWhole(s3, bucket, mpKey)).sha, whole);
        }
        await rejoin(victim, mpKey, whole);
      }
    } finally {
      await load.stop();
    }
    t.diagnostic(
      `seed ${SEED}; completions cut before their answer: ${completionsCut}/${ROUNDS} (committed all the same: ${cutButCommitted}); load ${JSON.stringify(load.stats)}`,
    );
    assert.ok(load.stats.acked > 0, 'the load made progress');
    // Every acknowledged write, through each gateway.
    for (const g of cluster.gateways) {
      const c = crashClient(g.url());
      try {
        await load.check(c);
      } finally {
        c.destroy();
      }
    }
  });
});
