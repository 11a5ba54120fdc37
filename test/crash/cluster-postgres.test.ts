// Issue 17, reliability: PostgreSQL stopped and started again under a PUT/GET load through the
// random front (test/crash/cluster-load.ts), three gateways that are never restarted. While it is
// down every request answers 503 SlowDown (never a hang: each client call is bounded, and a call that
// reaches its bound is a failure of this test) and readiness fails; once it is back the same gateway
// processes serve again (bounded wait), and every write acknowledged before, during or after the
// outage is readable, whole, through every gateway.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { newBucketName } from '../helpers/clients.js';
import { ClusterLoad, failureKind } from './cluster-load.js';
import { crashClient } from './cycles.js';
import { sleep } from './harness.js';

const SEED = process.env.STRATA_CLUSTER_SEED ? Number(process.env.STRATA_CLUSTER_SEED) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
/** The bound of every client call: a request that has no answer by then hangs. */
const CALL_BOUND_MS = 20_000;

/** A client whose every call ends by CALL_BOUND_MS (no retries). */
const boundedClient = (url: string): S3Client => crashClient(url, CALL_BOUND_MS);

/** Waits (bounded) until `fn` returns true. */
async function until(what: string, fn: () => Promise<boolean>, limitMs = 60_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await fn().catch(() => false)) return Date.now() - t0;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${limitMs} ms`);
}

describe('cluster reliability › PostgreSQL restarted under load', () => {
  let cluster: Cluster;
  let s3: S3Client;
  const bucket = newBucketName('cl-pg');

  before(async () => {
    cluster = await startCluster({ gateways: 3, etcdMembers: 1 });
    s3 = boundedClient(cluster.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    s3?.destroy();
    await cluster?.stop();
  });

  it(`stop → every request 503 SlowDown, none hangs, readiness fails; start → the same gateways serve again; every acknowledged write is there (seed ${SEED})`, {
    timeout: 300_000,
  }, async (t) => {
    const pids = cluster.gateways.map((g) => g.server!.pid);
    // The outage's failures must be 503s (a gateway answered); no answer at all would be a hang or a crash.
    const load = new ClusterLoad(s3, bucket, SEED, ['503']);
    load.start(3, 4, 3000);
    try {
      await until('30 writes acknowledged before the outage', async () => load.stats.acked >= 30);
      await cluster.pg.stop();
      const ackedBefore = load.stats.acked;

      // During the outage: straight to each gateway, a PUT and a GET answer 503 SlowDown, in bounded time.
      for (const g of cluster.gateways) {
        const c = boundedClient(g.url());
        try {
          for (const op of ['put', 'get'] as const) {
            const err = await (op === 'put'
              ? c.send(new PutObjectCommand({ Bucket: bucket, Key: `outage/${g.slot}`, Body: 'x' }))
              : c.send(new GetObjectCommand({ Bucket: bucket, Key: 'load/w0/k0' }))
            ).then(
              () => undefined,
              (e: unknown) => e as Error,
            );
            assert.ok(err, `gateway ${g.slot}: a ${op} succeeded with PostgreSQL stopped`);
            assert.equal(failureKind(err), '503', `gateway ${g.slot} ${op}: ${err.name}: ${err.message}`);
            assert.equal(err.name, 'SlowDown');
          }
        } finally {
          c.destroy();
        }
        const ready = await fetch(`${g.url()}/health/ready`, { signal: AbortSignal.timeout(CALL_BOUND_MS) });
        await ready.arrayBuffer();
        assert.equal(ready.status, 503, `gateway ${g.slot}: readiness with PostgreSQL stopped`);
      }
      // The load keeps hitting the outage for a moment.
      await until('the load saw the outage', async () => (load.stats.failures['503'] ?? 0) >= 5, 30_000);

      await cluster.pg.start();
      const resumed = await until('every gateway serves again', async () => {
        for (const g of cluster.gateways) {
          const c = boundedClient(g.url());
          try {
            await c.send(new PutObjectCommand({ Bucket: bucket, Key: `resumed/${g.slot}`, Body: 'back' }));
            const ready = await fetch(`${g.url()}/health/ready`, { signal: AbortSignal.timeout(CALL_BOUND_MS) });
            await ready.arrayBuffer();
            if (ready.status !== 200) return false;
          } finally {
            c.destroy();
          }
        }
        return true;
      });
      t.diagnostic(`service resumed ${resumed} ms after PostgreSQL was started again`);
      assert.deepEqual(
        cluster.gateways.map((g) => g.server!.pid),
        pids,
        'the gateways were not restarted',
      );
      await until('30 more writes acknowledged after the outage', async () => load.stats.acked >= ackedBefore + 30);
    } finally {
      await load.stop();
    }
    t.diagnostic(`load ${JSON.stringify(load.stats)}`);
    assert.ok((load.stats.failures['503'] ?? 0) > 0, 'the load ran into the outage');
    for (const g of cluster.gateways) {
      const c = boundedClient(g.url());
      try {
        await load.check(c);
      } finally {
        c.destroy();
      }
    }
  });
});
