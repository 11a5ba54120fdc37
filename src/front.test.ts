// Unit tests of the front router: which requests it takes (never one S3 would serve) and the
// readiness probe (metadata failure, unwritable directory, one probe per cache interval).
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { frontPathBucketExists, frontRoute, isMetricsRequest, Readiness, READY_CACHE_MS } from './front.js';

function req(method: string, url: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method, url, headers } as unknown as IncomingMessage;
}

describe('frontRoute', () => {
  it('frontRoute › anonymous GET/HEAD of the four paths → live/ready', () => {
    assert.equal(frontRoute(req('GET', '/health/live'), []), 'live');
    assert.equal(frontRoute(req('HEAD', '/health/ready'), []), 'ready');
    assert.equal(frontRoute(req('GET', '/minio/health/live'), []), 'live');
    assert.equal(frontRoute(req('GET', '/minio/health/ready', { host: 'localhost:9000' }), ['localhost']), 'ready');
  });

  it('frontRoute › anything S3 could serve → undefined (S3)', () => {
    assert.equal(frontRoute(req('PUT', '/health/live'), []), undefined);
    assert.equal(frontRoute(req('DELETE', '/health/live'), []), undefined);
    assert.equal(frontRoute(req('GET', '/health/live', { authorization: '' }), []), undefined);
    assert.equal(frontRoute(req('GET', '/health/live?X-Amz-Signature=00'), []), undefined);
    assert.equal(frontRoute(req('GET', '/health/live?'), []), undefined);
    assert.equal(frontRoute(req('GET', '/health/live', { host: 'bucket.localhost' }), ['localhost']), undefined);
    assert.equal(frontRoute(req('GET', '/health/%6Cive'), []), undefined);
    assert.equal(frontRoute(req('GET', '/health/live/'), []), undefined);
    assert.equal(frontRoute(req('GET', '/health'), []), undefined);
  });
});

describe('isMetricsRequest', () => {
  it('isMetricsRequest › GET/HEAD of exactly /metrics on a path-style host, signed or not → true; anything else → false (S3)', () => {
    assert.equal(isMetricsRequest(req('GET', '/metrics'), []), true);
    assert.equal(isMetricsRequest(req('HEAD', '/metrics'), []), true);
    assert.equal(isMetricsRequest(req('GET', '/metrics', { authorization: 'Bearer t', host: 'localhost:9000' }), ['localhost']), true);
    assert.equal(isMetricsRequest(req('PUT', '/metrics'), []), false);
    assert.equal(isMetricsRequest(req('GET', '/metrics?'), []), false);
    assert.equal(isMetricsRequest(req('GET', '/metrics?list-type=2'), []), false);
    assert.equal(isMetricsRequest(req('GET', '/metrics/'), []), false);
    assert.equal(isMetricsRequest(req('GET', '/%6Detrics'), []), false);
    assert.equal(isMetricsRequest(req('GET', '/metrics', { host: 'b.localhost' }), ['localhost']), false);
  });
});

describe('frontPathBucketExists', () => {
  it('frontPathBucketExists › asks for bucket health / minio, once; a failing store counts as no bucket', async () => {
    const asked: string[] = [];
    const exists = (answer: boolean) => async (name: string) => {
      asked.push(name);
      return answer;
    };
    assert.equal(await frontPathBucketExists(req('GET', '/health/live'), exists(true)), true);
    assert.equal(await frontPathBucketExists(req('GET', '/minio/health/ready'), exists(false)), false);
    assert.deepEqual(asked, ['health', 'minio']);
    assert.equal(
      await frontPathBucketExists(req('GET', '/health/ready'), async () => {
        throw new Error('database is locked');
      }),
      false,
    );
  });
});

describe('Readiness', () => {
  it('Readiness › metadata answers, directory writable → ready, and no probe file left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ready-'));
    try {
      const state = await new Readiness({ meta: () => undefined, writableDir: dir }).check();
      assert.deepEqual(state, { ready: true });
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Readiness › metadata throws → not ready, naming the metadata store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ready-'));
    try {
      const state = await new Readiness({ meta: () => Promise.reject(new Error('database is locked')), writableDir: dir }).check();
      assert.equal(state.ready, false);
      assert.match(state.reason ?? '', /metadata store does not answer: database is locked/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Readiness › several drives: not ready while the drive set says so (fewer than read quorum online), with its reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ready-'));
    try {
      let reason: string | undefined = 'only 2 of 6 drives are online, reads need 3: /d3 (offline)';
      const r = new Readiness({ meta: () => undefined, writableDir: dir, drives: () => reason }, () => 0);
      assert.deepEqual(await r.check(), { ready: false, reason });
      reason = undefined;
      const later = new Readiness({ meta: () => undefined, writableDir: dir, drives: () => reason });
      assert.deepEqual(await later.check(), { ready: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Readiness › directory is a file → not ready (ENOTDIR)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ready-'));
    try {
      await writeFile(join(dir, 'tmp'), 'x');
      const state = await new Readiness({ meta: () => undefined, writableDir: join(dir, 'tmp') }).check();
      assert.equal(state.ready, false);
      assert.match(state.reason ?? '', /data directory is not writable: ENOTDIR/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('Readiness › checks within the cache interval → one probe; after it → a new probe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-ready-'));
    try {
      let probes = 0;
      let clock = 1_000_000;
      const r = new Readiness({ meta: () => void probes++, writableDir: dir }, () => clock);
      await Promise.all([r.check(), r.check(), r.check()]);
      await r.check();
      assert.equal(probes, 1);
      clock += READY_CACHE_MS;
      await r.check();
      assert.equal(probes, 2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
