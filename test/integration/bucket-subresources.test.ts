// Bucket configurations no bucket can have yet (logging, notifications, request payment,
// acceleration, website, replication, analytics, metrics, inventory, Intelligent-Tiering) and
// GetObjectTorrent, as the tools that probe them see them: aws-sdk-js, boto3 newest and Debian's,
// the AWS CLI and `s3cmd info`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetBucketAccelerateConfigurationCommand,
  GetBucketAnalyticsConfigurationCommand,
  GetBucketIntelligentTieringConfigurationCommand,
  GetBucketInventoryConfigurationCommand,
  GetBucketLoggingCommand,
  GetBucketMetricsConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketReplicationCommand,
  GetBucketRequestPaymentCommand,
  GetBucketWebsiteCommand,
  GetObjectTorrentCommand,
  ListBucketAnalyticsConfigurationsCommand,
  ListBucketIntelligentTieringConfigurationsCommand,
  ListBucketInventoryConfigurationsCommand,
  ListBucketMetricsConfigurationsCommand,
  PutBucketLoggingCommand,
  PutBucketWebsiteCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEBIAN_PYTHON, S3CMD, VENV_PYTHON, awsCli, describeRun, isolatedClientEnv, newBucketName, run, writeS3cmdConfig } from '../helpers/clients.js';
import { errorOf, testClient } from '../helpers/s3.js';
import { ACCESS_KEY, REGION, SECRET_KEY, startServer, type RunningServer } from '../helpers/server.js';

const PYTHONS = [
  { label: 'boto3 newest (.venv)', python: VENV_PYTHON },
  { label: 'boto3 Debian (/usr/bin/python3)', python: DEBIAN_PYTHON },
];

describe('Bucket configurations without a configuration, GetObjectTorrent', () => {
  let server: RunningServer;
  let s3: S3Client;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let cleanupEnv: () => Promise<void>;
  const bucket = newBucketName('subres');
  const missing = newBucketName('missing');
  const cli = awsCli(() => ({ url: server.url, env, cwd: work, logs: server.logs, timeoutMs: 60_000 }));

  before(async () => {
    server = await startServer();
    s3 = testClient(server.url);
    ({
      env,
      dir: work,
      cleanup: cleanupEnv,
    } = await isolatedClientEnv({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET_KEY, AWS_DEFAULT_REGION: REGION }));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'file.txt', Body: 'x' }));
  });

  after(async () => {
    s3?.destroy();
    await server?.stop();
    await cleanupEnv?.();
  });

  it('GetBucketLogging / NotificationConfiguration / RequestPayment / AccelerateConfiguration (aws-sdk-js) → 200: logging off, no notifications, Payer BucketOwner, no Status', async () => {
    const logging = await s3.send(new GetBucketLoggingCommand({ Bucket: bucket }));
    assert.equal(logging.$metadata.httpStatusCode, 200);
    assert.equal(logging.LoggingEnabled, undefined);
    const notif = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
    assert.equal(notif.$metadata.httpStatusCode, 200);
    assert.deepEqual(
      [notif.TopicConfigurations, notif.QueueConfigurations, notif.LambdaFunctionConfigurations, notif.EventBridgeConfiguration],
      [undefined, undefined, undefined, undefined],
    );
    const payment = await s3.send(new GetBucketRequestPaymentCommand({ Bucket: bucket }));
    assert.equal(payment.Payer, 'BucketOwner');
    const accel = await s3.send(new GetBucketAccelerateConfigurationCommand({ Bucket: bucket }));
    assert.equal(accel.$metadata.httpStatusCode, 200);
    assert.equal(accel.Status, undefined);
  });

  it('GetBucketWebsite → 404 NoSuchWebsiteConfiguration; GetBucketReplication → 404 ReplicationConfigurationNotFoundError (aws-sdk-js)', async () => {
    const web = await errorOf(s3.send(new GetBucketWebsiteCommand({ Bucket: bucket })));
    assert.deepEqual([web.name, web.$metadata.httpStatusCode], ['NoSuchWebsiteConfiguration', 404]);
    const repl = await errorOf(s3.send(new GetBucketReplicationCommand({ Bucket: bucket })));
    assert.deepEqual([repl.name, repl.$metadata.httpStatusCode], ['ReplicationConfigurationNotFoundError', 404]);
  });

  it('ListBucket{Analytics,Metrics,Inventory,IntelligentTiering}Configurations → empty, complete lists; Get by Id → 404 NoSuchConfiguration (aws-sdk-js)', async () => {
    const analytics = await s3.send(new ListBucketAnalyticsConfigurationsCommand({ Bucket: bucket }));
    const metrics = await s3.send(new ListBucketMetricsConfigurationsCommand({ Bucket: bucket }));
    const inventory = await s3.send(new ListBucketInventoryConfigurationsCommand({ Bucket: bucket }));
    const tiering = await s3.send(new ListBucketIntelligentTieringConfigurationsCommand({ Bucket: bucket }));
    for (const l of [analytics, metrics, inventory, tiering]) {
      assert.equal(l.$metadata.httpStatusCode, 200);
      assert.equal(l.IsTruncated, false);
    }
    assert.equal(analytics.AnalyticsConfigurationList, undefined);
    assert.equal(metrics.MetricsConfigurationList, undefined);
    assert.equal(inventory.InventoryConfigurationList, undefined);
    assert.equal(tiering.IntelligentTieringConfigurationList, undefined);
    const gets = [
      s3.send(new GetBucketAnalyticsConfigurationCommand({ Bucket: bucket, Id: 'a1' })),
      s3.send(new GetBucketMetricsConfigurationCommand({ Bucket: bucket, Id: 'm1' })),
      s3.send(new GetBucketInventoryConfigurationCommand({ Bucket: bucket, Id: 'i1' })),
      s3.send(new GetBucketIntelligentTieringConfigurationCommand({ Bucket: bucket, Id: 't1' })),
    ];
    // Every refusal handled at once (one may come back before another: the server has several workers).
    for (const e of await Promise.all(gets.map((g) => errorOf(g)))) {
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['NoSuchConfiguration', 404]);
    }
  });

  it('every one of them on a missing bucket → 404 NoSuchBucket; PutBucketLogging / PutBucketWebsite → 501 NotImplemented (aws-sdk-js)', async () => {
    const calls = [
      new GetBucketLoggingCommand({ Bucket: missing }),
      new GetBucketNotificationConfigurationCommand({ Bucket: missing }),
      new GetBucketRequestPaymentCommand({ Bucket: missing }),
      new GetBucketAccelerateConfigurationCommand({ Bucket: missing }),
      new GetBucketWebsiteCommand({ Bucket: missing }),
      new GetBucketReplicationCommand({ Bucket: missing }),
      new ListBucketAnalyticsConfigurationsCommand({ Bucket: missing }),
      new ListBucketMetricsConfigurationsCommand({ Bucket: missing }),
      new ListBucketInventoryConfigurationsCommand({ Bucket: missing }),
      new ListBucketIntelligentTieringConfigurationsCommand({ Bucket: missing }),
      new GetBucketAnalyticsConfigurationCommand({ Bucket: missing, Id: 'a1' }),
    ];
    for (const c of calls) {
      const e = await errorOf(s3.send(c as never));
      assert.deepEqual([e.name, e.$metadata.httpStatusCode], ['NoSuchBucket', 404], c.constructor.name);
    }
    const putLogging = await errorOf(s3.send(new PutBucketLoggingCommand({ Bucket: bucket, BucketLoggingStatus: {} })));
    assert.deepEqual([putLogging.name, putLogging.$metadata.httpStatusCode], ['NotImplemented', 501]);
    const putWebsite = await errorOf(
      s3.send(new PutBucketWebsiteCommand({ Bucket: bucket, WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } })),
    );
    assert.deepEqual([putWebsite.name, putWebsite.$metadata.httpStatusCode], ['NotImplemented', 501]);
  });

  it('GetObjectTorrent › missing key → 404 NoSuchKey; existing object → 501 NotImplemented (aws-sdk-js)', async () => {
    const none = await errorOf(s3.send(new GetObjectTorrentCommand({ Bucket: bucket, Key: 'nope' })));
    assert.deepEqual([none.name, none.$metadata.httpStatusCode], ['NoSuchKey', 404]);
    const some = await errorOf(s3.send(new GetObjectTorrentCommand({ Bucket: bucket, Key: 'file.txt' })));
    assert.deepEqual([some.name, some.$metadata.httpStatusCode], ['NotImplemented', 501]);
    const noBucket = await errorOf(s3.send(new GetObjectTorrentCommand({ Bucket: missing, Key: 'file.txt' })));
    assert.deepEqual([noBucket.name, noBucket.$metadata.httpStatusCode], ['NoSuchBucket', 404]);
  });

  for (const { label, python } of PYTHONS) {
    it(`the same calls through ${label} → the same answers`, async () => {
      const r = await run(
        python,
        [
          '-c',
          `
import json, os, boto3
from botocore.client import Config
from botocore.exceptions import ClientError
s3 = boto3.client('s3', endpoint_url=os.environ['S3_ENDPOINT'], config=Config(signature_version='s3v4', retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
b = os.environ['S3_BUCKET']
def err(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return [e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
    return None
out = {
  'logging': 'LoggingEnabled' in s3.get_bucket_logging(Bucket=b),
  'notification': sorted(k for k in s3.get_bucket_notification_configuration(Bucket=b) if k != 'ResponseMetadata'),
  'payer': s3.get_bucket_request_payment(Bucket=b)['Payer'],
  'accelerate': s3.get_bucket_accelerate_configuration(Bucket=b).get('Status'),
  'website': err(s3.get_bucket_website, Bucket=b),
  'replication': err(s3.get_bucket_replication, Bucket=b),
  'lists': [s3.list_bucket_analytics_configurations(Bucket=b)['IsTruncated'], s3.list_bucket_metrics_configurations(Bucket=b)['IsTruncated'],
            s3.list_bucket_inventory_configurations(Bucket=b)['IsTruncated'], s3.list_bucket_intelligent_tiering_configurations(Bucket=b)['IsTruncated']],
  'by_id': [err(s3.get_bucket_analytics_configuration, Bucket=b, Id='a'), err(s3.get_bucket_metrics_configuration, Bucket=b, Id='m'),
            err(s3.get_bucket_inventory_configuration, Bucket=b, Id='i'), err(s3.get_bucket_intelligent_tiering_configuration, Bucket=b, Id='t')],
  'missing': err(s3.get_bucket_logging, Bucket=os.environ['S3_MISSING']),
  'torrent': [err(s3.get_object_torrent, Bucket=b, Key='nope'), err(s3.get_object_torrent, Bucket=b, Key='file.txt')],
}
print(json.dumps(out))
`,
        ],
        { env: { ...env, S3_ENDPOINT: server.url, S3_BUCKET: bucket, S3_MISSING: missing }, timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, `${describeRun(python, r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
      assert.deepEqual(JSON.parse(r.stdout), {
        logging: false,
        notification: [],
        payer: 'BucketOwner',
        accelerate: null,
        website: ['NoSuchWebsiteConfiguration', 404],
        replication: ['ReplicationConfigurationNotFoundError', 404],
        lists: [false, false, false, false],
        by_id: Array(4).fill(['NoSuchConfiguration', 404]),
        missing: ['NoSuchBucket', 404],
        torrent: [
          ['NoSuchKey', 404],
          ['NotImplemented', 501],
        ],
      });
    });
  }

  it('AWS CLI › get-bucket-logging, get-bucket-request-payment, get-bucket-website (fails: NoSuchWebsiteConfiguration)', async () => {
    assert.deepEqual(await cli.s3api(['get-bucket-logging', '--bucket', bucket]), {});
    assert.deepEqual(await cli.s3api(['get-bucket-request-payment', '--bucket', bucket]), { Payer: 'BucketOwner' });
    const web = await cli.aws(['s3api', 'get-bucket-website', '--bucket', bucket], { expectFailure: true });
    assert.match(web.stderr, /NoSuchWebsiteConfiguration/);
  });

  it('s3cmd info s3://bucket → exit 0 with Location and Payer BucketOwner', async () => {
    const cfg = join(work, 's3cmd.cfg');
    await writeS3cmdConfig(cfg, server);
    const from = server.logs().length;
    const r = await run(S3CMD, ['-c', cfg, 'info', `s3://${bucket}`], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${describeRun('s3cmd info', r)}\n--- server log (tail) ---\n${server.logs().slice(-3000)}`);
    assert.match(r.stdout, /Location:\s+us-east-1/);
    assert.match(r.stdout, /Payer:\s+BucketOwner/);
    // It really asked: the ?requestPayment GET is in the access log, answered 200.
    const lines = await server.accessLog(from);
    assert.ok(
      lines.some((l) => l.op === 'GetBucketRequestPayment' && l.status === 200),
      JSON.stringify(lines.map((l) => [l.op, l.status])),
    );
  });
});
