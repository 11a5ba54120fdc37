// Issue 17, reliability: conditional writes racing across three gateways on one PostgreSQL. 50
// writers PUT one new key with `If-None-Match: *` at once, spread over the gateways (round robin
// straight to each, then at random through the front): exactly one 200, every other answer a 412
// PreconditionFailed (AWS documents 409 ConditionalRequestConflict for a write that conflicts while
// in flight; Strata decides at the metadata commit and answers 412 — either is accepted as a loss,
// never a second 200), and every gateway then serves the winner's bytes and ETag. The same for 30
// `If-Match: <current ETag>` overwrites (one winner) and for 9 CompleteMultipartUpload calls with
// `If-None-Match: *`, each upload begun, filled and completed on different gateways.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it, type TestContext } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type Cluster, startCluster } from '../helpers/cluster.js';
import { newBucketName } from '../helpers/clients.js';
import { type Front, startFront } from '../helpers/front.js';
import { testClient, testSigner } from '../helpers/s3.js';

const md5 = (b: Buffer | string) => `"${createHash('md5').update(b).digest('hex')}"`;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

interface Answer {
  status: number;
  body: string;
  etag?: string;
}

/** A SigV4-signed PUT of `body` to `url`/bucket/key with extra headers, through `agent`. */
async function signedPut(url: string, agent: http.Agent, path: string, body: string, extra: Record<string, string>): Promise<Answer> {
  const { hostname, port } = new URL(url);
  const signed = await testSigner.sign({
    method: 'PUT',
    protocol: 'http:',
    hostname,
    port: Number(port),
    path,
    query: {},
    headers: { host: `${hostname}:${port}`, 'content-length': String(Buffer.byteLength(body)), 'x-amz-content-sha256': sha256(body), ...extra },
    body,
  });
  return new Promise<Answer>((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method: 'PUT', path, headers: signed.headers as Record<string, string>, agent, timeout: 60_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(res.headers.etag && { etag: res.headers.etag }) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

/** Exactly one 200; every loss a 412 PreconditionFailed (or a 409 ConditionalRequestConflict). Returns the winner's index. */
function oneWinner(t: TestContext, answers: Answer[], condition: string): number {
  const winners = answers.flatMap((a, i) => (a.status === 200 ? [i] : []));
  assert.equal(winners.length, 1, `statuses: ${answers.map((a) => a.status).join(' ')}`);
  let conflicts = 0;
  for (const a of answers) {
    if (a.status === 200) continue;
    if (a.status === 409) {
      assert.match(a.body, /<Code>ConditionalRequestConflict<\/Code>/);
      conflicts++;
      continue;
    }
    assert.equal(a.status, 412, a.body);
    assert.match(a.body, /<Code>PreconditionFailed<\/Code>/);
    assert.match(a.body, new RegExp(`<Condition>${condition}</Condition>`));
  }
  t.diagnostic(`1 × 200, ${answers.length - 1 - conflicts} × 412, ${conflicts} × 409`);
  return winners[0]!;
}

describe('cluster reliability › conditional writes racing across gateways', () => {
  let cluster: Cluster;
  let s3: S3Client;
  const bucket = newBucketName('cl-race');
  const agents: http.Agent[] = [];
  const agent = () => {
    const a = new http.Agent({ keepAlive: true, maxSockets: 6 });
    agents.push(a);
    return a;
  };

  before(async () => {
    cluster = await startCluster({ gateways: 3, etcdMembers: 0 });
    s3 = testClient(cluster.url);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    for (const a of agents) a.destroy();
    s3?.destroy();
    await cluster?.stop();
  });

  /** GET through each gateway directly: the same bytes and ETag everywhere. */
  async function everyGatewayServes(key: string, body: string, etag = md5(body)): Promise<void> {
    for (const g of cluster.gateways) {
      const c = testClient(g.url());
      try {
        const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        assert.equal(await got.Body!.transformToString(), body, `gateway ${g.slot}`);
        assert.equal(got.ETag, etag, `gateway ${g.slot}`);
      } finally {
        c.destroy();
      }
    }
  }

  for (const via of ['round robin, straight to each gateway', 'the random front', 'a front that picks per connection'] as const) {
    it(`PutObject › 50 concurrent If-None-Match: * on one new key (${via}) → exactly one 200, the rest 412; every gateway serves the winner's bytes`, {
      timeout: 120_000,
    }, async (t) => {
      const key = `race/${via.split(' ')[0]}-${via.split(' ').at(-1)}`;
      const targets = cluster.gateways.map((g) => ({ url: g.url(), agent: agent() }));
      let byConnection: Front | undefined;
      if (via.endsWith('connection')) {
        byConnection = await startFront('connection');
        for (const g of cluster.gateways) byConnection.setBackend(g.slot, { host: g.server!.host, port: g.server!.port });
      }
      const front = { url: byConnection?.url ?? cluster.url, agent: agent() };
      // 32 KiB each, so the data writes overlap and the metadata commit is where they race.
      const bodies = Array.from({ length: 50 }, (_, i) => `writer ${i}: ${randomBytes(16 * 1024).toString('hex')}\n`);
      const answers = await Promise.all(
        bodies.map((b, i) => {
          const to = via.startsWith('round') ? targets[i % targets.length]! : front;
          return signedPut(to.url, to.agent, `/${bucket}/${key}`, b, { 'if-none-match': '*' });
        }),
      );
      await byConnection?.close();
      if (byConnection) t.diagnostic(`connections per gateway: ${byConnection.counts().join(' ')}`);
      const w = oneWinner(t, answers, 'If-None-Match');
      assert.equal(answers[w]!.etag, md5(bodies[w]!));
      await everyGatewayServes(key, bodies[w]!);
    });
  }

  it('PutObject › 30 concurrent If-Match: <current ETag> overwrites spread over the gateways → one 200, the rest 412; the winner is stored', {
    timeout: 120_000,
  }, async (t) => {
    const key = 'race/if-match';
    const first = 'the first version\n';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: first }));
    const targets = cluster.gateways.map((g) => ({ url: g.url(), agent: agent() }));
    const bodies = Array.from({ length: 30 }, (_, i) => `overwrite ${i}: ${randomBytes(8 * 1024).toString('hex')}\n`);
    const answers = await Promise.all(
      bodies.map((b, i) => signedPut(targets[i % 3]!.url, targets[i % 3]!.agent, `/${bucket}/${key}`, b, { 'if-match': md5(first) })),
    );
    const w = oneWinner(t, answers, 'If-Match');
    await everyGatewayServes(key, bodies[w]!);
  });

  it('CompleteMultipartUpload › 9 uploads of one new key, each created, filled and completed on different gateways, completed at once with If-None-Match: * → one 200, the rest 412', {
    timeout: 120_000,
  }, async (t) => {
    const key = 'race/multipart';
    const n = 9;
    const clients = cluster.gateways.map((g) => testClient(g.url()));
    try {
      const parts = Array.from({ length: n }, (_, i) => Buffer.from(`upload ${i}: ${randomBytes(4096).toString('hex')}`));
      const ids: string[] = [];
      const etags: string[] = [];
      for (let i = 0; i < n; i++) {
        const up = await clients[i % 3]!.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        ids.push(up.UploadId!);
        const part = await clients[(i + 1) % 3]!.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: parts[i] }),
        );
        etags.push(part.ETag!);
      }
      const results = await Promise.allSettled(
        ids.map((id, i) =>
          clients[(i + 2) % 3]!.send(
            new CompleteMultipartUploadCommand({
              Bucket: bucket,
              Key: key,
              UploadId: id,
              IfNoneMatch: '*',
              MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etags[i] }] },
            }),
          ),
        ),
      );
      const answers: Answer[] = results.map((r) => {
        if (r.status === 'fulfilled') return { status: 200, body: '' };
        const e = r.reason as { $metadata?: { httpStatusCode?: number }; name?: string; Condition?: string };
        const code = e.name ?? '';
        return { status: e.$metadata?.httpStatusCode ?? 0, body: `<Code>${code}</Code><Condition>If-None-Match</Condition>` };
      });
      const w = oneWinner(t, answers, 'If-None-Match');
      const won = results[w] as PromiseFulfilledResult<{ ETag?: string }>;
      assert.match(won.value.ETag ?? '', /-1"$/);
      await everyGatewayServes(key, parts[w]!.toString(), won.value.ETag);
    } finally {
      for (const c of clients) c.destroy();
    }
  });
});
