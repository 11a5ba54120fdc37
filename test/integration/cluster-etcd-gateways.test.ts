// Two Strata processes sharing one data directory (--shared yes) with --etcd: both register in etcd,
// exactly one runs the background jobs; with etcd down both keep serving S3 (etcd is not on the request
// path) and the job leader gives up; with etcd back a leader again; the leading process SIGKILLed → the
// other leads and the killed one leaves the registry. Waits are bounded loops; nothing asserts a speed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { EtcdCluster } from '../../src/cluster/etcd.js';
import { until } from '../helpers/electors.js';
import { adminCall } from '../helpers/admin.js';
import { type EtcdCluster as TestEtcd, startEtcd } from '../helpers/etcd.js';
import { type PostgresCluster, startPostgres } from '../helpers/postgres.js';
import { testClient } from '../helpers/s3.js';
import { ACCESS_KEY, type RunningServer, SECRET_KEY, startServer } from '../helpers/server.js';

const LEADS = 'job leader: this process leads';
const LEFT = 'job leader: this process no longer leads';
const count = (text: string, what: string) => text.split(what).length - 1;

describe('gateways with --etcd', () => {
  let etcd: TestEtcd;
  let dataDir: string;
  let reader: EtcdCluster;
  const servers: RunningServer[] = [];

  before(async () => {
    etcd = await startEtcd({ members: 1 });
    dataDir = await mkdtemp(join(tmpdir(), 'strata-etcd-gw-'));
    for (let i = 0; i < 2; i++)
      servers.push(
        await startServer({ dataDir, args: ['--shared', 'yes', '--workers', '1', '--console-address', 'off'], env: { STRATA_ETCD: etcd.endpoints.join(',') } }),
      );
    reader = new EtcdCluster({ endpoints: etcd.endpoints, id: 'reader' });
  });
  after(async () => {
    await reader?.close();
    for (const s of servers) await s.stop().catch(() => undefined);
    await etcd?.dispose();
    await rm(dataDir, { recursive: true, force: true });
  });

  const leading = () => servers.map((s) => count(s.logs(), LEADS) > count(s.logs(), LEFT));

  it('gateways › both registered; exactly one runs the jobs', async () => {
    await until(async () => (await reader.registry.list()).length === 2, 'two gateways registered');
    const gws = await reader.registry.list();
    assert.deepEqual(gws.map((g) => g.pid).sort(), servers.map((s) => s.pid).sort());
    for (const g of gws) assert.match(g.address, /:\d+$/);
    await until(() => leading().filter(Boolean).length === 1, 'one job leader');
    const i = leading().indexOf(true);
    assert.equal(await reader.leader(), gws.find((g) => g.pid === servers[i]!.pid)?.id);
  });

  it('gateways › etcd down → S3 served by both, the leader gives up; etcd back → a leader again', async () => {
    const s3 = servers.map((s) => testClient(s.url));
    await s3[0]!.send(new CreateBucketCommand({ Bucket: 'etcd-down' }));
    const before = servers.map((s) => count(s.logs(), LEFT));
    await etcd.kill(0);
    try {
      for (let i = 0; i < 2; i++) {
        await s3[i]!.send(new PutObjectCommand({ Bucket: 'etcd-down', Key: `k${i}`, Body: `v${i}` }));
        const got = await s3[1 - i]!.send(new GetObjectCommand({ Bucket: 'etcd-down', Key: `k${i}` }));
        assert.equal(await got.Body!.transformToString(), `v${i}`);
      }
      await until(() => servers.some((s, i) => count(s.logs(), LEFT) > before[i]!), 'the job leader gave up');
      assert.deepEqual(leading(), [false, false]);
    } finally {
      await etcd.restart(0);
    }
    await until(() => leading().filter(Boolean).length === 1, 'a job leader once etcd is back', 30_000);
    await until(async () => (await reader.registry.list().catch(() => [])).length === 2, 'both registered', 30_000);
  });

  it('gateways › the leading process SIGKILLed → the other leads; the killed one leaves the registry', async () => {
    const i = leading().indexOf(true);
    assert.ok(i >= 0);
    const killed = servers[i]!;
    process.kill(killed.pid, 'SIGKILL');
    await killed.exited;
    await until(() => count(servers[1 - i]!.logs(), LEADS) > count(servers[1 - i]!.logs(), LEFT), 'the other leads', 30_000);
    await until(async () => (await reader.registry.list()).every((g) => g.pid !== killed.pid), 'the killed gateway dropped', 30_000);
    assert.deepEqual(
      (await reader.registry.list()).map((g) => g.pid),
      [servers[1 - i]!.pid],
    );
  });
});

describe('gateways on PostgreSQL with --etcd: the cluster status', () => {
  let etcd: TestEtcd;
  let pg: PostgresCluster;
  let dataDir: string;
  const servers: RunningServer[] = [];
  const root = { accessKey: ACCESS_KEY, secretKey: SECRET_KEY };

  before(async () => {
    etcd = await startEtcd({ members: 1 });
    pg = await startPostgres();
    const url = await pg.createDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'strata-etcd-pg-'));
    const opts = { dataDir, args: ['--meta', url, '--workers', '1', '--console-address', 'off'], env: { STRATA_ETCD: etcd.endpoints.join(',') } };
    servers.push(await startServer(opts));
    servers.push(await startServer(opts));
  });
  after(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    await etcd?.dispose();
    await pg?.dispose();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('status › registry etcd, both gateways, the job leader by etcd, etcd healthy; etcd down → unhealthy, S3 still served', async () => {
    let body: Record<string, unknown> = {};
    await until(async () => {
      const r = await adminCall(servers[0]!.url, root, 'GET', 'cluster/status');
      body = r.body;
      return r.status === 200 && (body.gateways as unknown[]).length === 2 && (body.leader as { id: string | null }).id !== null;
    }, 'two gateways and a leader in the status');
    assert.equal(body.registry, 'etcd');
    const gateways = body.gateways as Array<{ pid: number; leader: boolean; live: boolean }>;
    assert.deepEqual(gateways.map((g) => g.pid).sort(), servers.map((s) => s.pid).sort());
    assert.equal(gateways.filter((g) => g.leader).length, 1);
    assert.equal((body.leader as { by: string }).by, 'etcd');
    const e = body.etcd as { configured: boolean; healthy: boolean; version: string };
    assert.equal(e.configured, true);
    assert.equal(e.healthy, true);
    assert.match(e.version, /^3\.4\./);

    await etcd.kill(0);
    try {
      const s3 = testClient(servers[1]!.url);
      await s3.send(new CreateBucketCommand({ Bucket: 'pg-etcd-down' }));
      await s3.send(new PutObjectCommand({ Bucket: 'pg-etcd-down', Key: 'k', Body: 'v' }));
      const got = await testClient(servers[0]!.url).send(new GetObjectCommand({ Bucket: 'pg-etcd-down', Key: 'k' }));
      assert.equal(await got.Body!.transformToString(), 'v');
      const r = await adminCall(servers[0]!.url, root, 'GET', 'cluster/status');
      assert.equal(r.status, 200);
      assert.equal((r.body.etcd as { healthy: boolean }).healthy, false);
      assert.equal((r.body.postgres as { reachable: boolean }).reachable, true);
    } finally {
      await etcd.restart(0);
    }
  });
});
