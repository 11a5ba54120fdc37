// Unit tests for POST Object policies: decoding and validation, conditions (eq, starts-with,
// content-length-range), the coverage rule for form fields, and the form signatures (SigV2 and
// SigV4) — computed independently here and produced by botocore's generate_presigned_post.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { S3Error, type S3ErrorCode } from './errors.js';
import { checkPolicyConditions, isExemptField, parseIsoExpiration, parsePostPolicy, verifyPostSignature } from './post-policy.js';
import type { CredentialLookup } from './auth/sigv4.js';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SK = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup: CredentialLookup = (ak) => (ak === AK ? { accessKey: AK, secretKey: SK } : undefined);
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const FUTURE = '2025-01-15T13:00:00Z';

function b64(doc: unknown): string {
  return Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc), 'utf8').toString('base64');
}

function expectCode(fn: () => unknown, code: S3ErrorCode, message?: string | RegExp): S3Error {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof S3Error, `expected S3Error ${code}, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (typeof message === 'string') assert.equal(err.message, message);
    else if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const fieldsOf = (o: Record<string, string>) => new Map(Object.entries(o).map(([k, v]) => [k.toLowerCase(), v]));

// ----------------------------------------------------------------------------------------------
// Parsing

test('PostObject policy › boto3-shaped policy → conditions with lowercased fields, length range', () => {
  const p = parsePostPolicy(
    b64({
      expiration: FUTURE,
      conditions: [{ bucket: 'b' }, ['starts-with', '$key', 'up/'], ['content-length-range', 1, 100], { 'Content-Type': 'text/plain' }],
    }),
    NOW,
  );
  assert.equal(p.expiration, Date.UTC(2025, 0, 15, 13, 0, 0));
  assert.deepEqual(
    p.conditions.map((c) => [c.op, c.field, c.value]),
    [
      ['eq', 'bucket', 'b'],
      ['starts-with', 'key', 'up/'],
      ['eq', 'content-type', 'text/plain'],
    ],
  );
  assert.deepEqual([p.minLength, p.maxLength], [1, 100]);
});

test('PostObject policy › operator and $field names case-insensitive (s3-tests) → parsed', () => {
  const p = parsePostPolicy(b64({ expiration: FUTURE, conditions: [['StArTs-WiTh', '$KeY', 'foo'], { bUcKeT: 'b' }] }), NOW);
  assert.deepEqual(
    p.conditions.map((c) => [c.op, c.field]),
    [
      ['starts-with', 'key'],
      ['eq', 'bucket'],
    ],
  );
  assert.equal(p.maxLength, Infinity);
});

test('PostObject policy › expiration in the past → 403 AccessDenied "Invalid according to Policy: Policy expired."', () => {
  const e = expectCode(
    () => parsePostPolicy(b64({ expiration: '2025-01-15T11:59:59Z', conditions: [] }), NOW),
    'AccessDenied',
    'Invalid according to Policy: Policy expired.',
  );
  assert.equal(e.status, 403);
});

test('PostObject policy › expiration with milliseconds → accepted; out-of-range or non-ISO dates → undefined', () => {
  assert.equal(parseIsoExpiration('2025-01-15T13:00:00.500Z'), Date.UTC(2025, 0, 15, 13, 0, 0) + 500);
  assert.equal(parseIsoExpiration('2025-02-30T00:00:00Z'), undefined);
  assert.equal(parseIsoExpiration('2025-01-15 13:00:00.123+00:00'), undefined);
});

test('PostObject policy › malformed documents → 400 InvalidPolicyDocument', () => {
  const bad: Array<[string, unknown]> = [
    ['not base64', '%%%'],
    ['not JSON', b64('{"expiration": ')],
    ['array document', b64([1, 2])],
    ['missing expiration', b64({ conditions: [] })],
    ['uppercase EXPIRATION', b64({ EXPIRATION: FUTURE, conditions: [] })],
    ['python str(datetime) expiration', b64({ expiration: '2025-01-15 13:00:00.123456+00:00', conditions: [] })],
    ['missing conditions', b64({ expiration: FUTURE })],
    ['uppercase CONDITIONS', b64({ expiration: FUTURE, CONDITIONS: [] })],
    ['conditions not a list', b64({ expiration: FUTURE, conditions: { key: 'a' } })],
    ['empty simple condition {}', b64({ expiration: FUTURE, conditions: [{}] })],
    ['two-property simple condition', b64({ expiration: FUTURE, conditions: [{ a: '1', b: '2' }] })],
    ['non-string simple value', b64({ expiration: FUTURE, conditions: [{ success_action_status: 201 }] })],
    ['unknown operator', b64({ expiration: FUTURE, conditions: [['ends-with', '$key', 'x']] })],
    ['field without $', b64({ expiration: FUTURE, conditions: [['eq', 'key', 'x']] })],
    ['content-length-range with one bound', b64({ expiration: FUTURE, conditions: [['content-length-range', 0]] })],
    ['negative content-length-range', b64({ expiration: FUTURE, conditions: [['content-length-range', -1, 0]] })],
    ['content-length-range min > max', b64({ expiration: FUTURE, conditions: [['content-length-range', 10, 1]] })],
  ];
  for (const [name, policy] of bad) {
    const e = expectCode(() => parsePostPolicy(policy as string, NOW), 'InvalidPolicyDocument', /^Invalid Policy: /);
    assert.equal(e.status, 400, name);
  }
});

test('PostObject policy › several content-length-range conditions → their intersection; numeric strings accepted', () => {
  const p = parsePostPolicy(
    b64({
      expiration: FUTURE,
      conditions: [
        ['content-length-range', 0, 100],
        ['content-length-range', '10', '50'],
      ],
    }),
    NOW,
  );
  assert.deepEqual([p.minLength, p.maxLength], [10, 50]);
});

// ----------------------------------------------------------------------------------------------
// Conditions and coverage

function policy(conditions: unknown[]) {
  return parsePostPolicy(b64({ expiration: FUTURE, conditions }), NOW);
}

test('PostObject conditions › all satisfied and every field covered → passes', () => {
  const p = policy([{ bucket: 'b' }, ['starts-with', '$key', 'up/'], ['eq', '$success_action_status', '201'], ['starts-with', '$x-amz-meta-tag', '']]);
  checkPolicyConditions(
    p,
    fieldsOf({
      bucket: 'b',
      key: 'up/a.txt',
      success_action_status: '201',
      'x-amz-meta-tag': 'anything',
      policy: 'x',
      signature: 'y',
      AWSAccessKeyId: AK,
      'x-ignore-me': '1',
    }),
  );
});

test('PostObject conditions › eq mismatch → 403 AccessDenied with the condition as S3 prints it', () => {
  const p = policy([{ bucket: 'b' }, { key: 'a.txt' }]);
  expectCode(
    () => checkPolicyConditions(p, fieldsOf({ bucket: 'b', key: 'b.txt' })),
    'AccessDenied',
    'Invalid according to Policy: Policy Condition failed: ["eq", "$key", "a.txt"]',
  );
  expectCode(() => checkPolicyConditions(p, fieldsOf({ bucket: 'other', key: 'a.txt' })), 'AccessDenied', /\["eq", "\$bucket", "b"\]/);
});

test('PostObject conditions › starts-with mismatch, or a required field absent → AccessDenied', () => {
  const p = policy([{ bucket: 'b' }, ['starts-with', '$key', 'up/'], ['starts-with', '$x-amz-meta-foo', 'bar']]);
  expectCode(
    () => checkPolicyConditions(p, fieldsOf({ bucket: 'b', key: 'down/a', 'x-amz-meta-foo': 'barclamp' })),
    'AccessDenied',
    'Invalid according to Policy: Policy Condition failed: ["starts-with", "$key", "up/"]',
  );
  expectCode(() => checkPolicyConditions(p, fieldsOf({ bucket: 'b', key: 'up/a' })), 'AccessDenied', /x-amz-meta-foo/);
});

test('PostObject conditions › ["eq", "$x-amz-meta-foo", ""] with a value → AccessDenied (s3-tests)', () => {
  const p = policy([{ bucket: 'b' }, ['eq', '$x-amz-meta-foo', '']]);
  expectCode(() => checkPolicyConditions(p, fieldsOf({ bucket: 'b', 'x-amz-meta-foo': 'barclamp' })), 'AccessDenied');
});

test('PostObject conditions › starts-with on Content-Type checks each comma-separated type', () => {
  const p = policy([{ bucket: 'b' }, ['starts-with', '$Content-Type', 'image/']]);
  checkPolicyConditions(p, fieldsOf({ bucket: 'b', 'Content-Type': 'image/png, image/jpeg' }));
  expectCode(() => checkPolicyConditions(p, fieldsOf({ bucket: 'b', 'Content-Type': 'image/png, text/html' })), 'AccessDenied');
});

test('PostObject conditions › a field no condition covers → 403 "Extra input fields: <name>"', () => {
  const p = policy([{ bucket: 'b' }, { key: 'k' }]);
  expectCode(
    () => checkPolicyConditions(p, fieldsOf({ bucket: 'b', key: 'k', 'x-amz-meta-foo': '1' })),
    'AccessDenied',
    'Invalid according to Policy: Extra input fields: x-amz-meta-foo',
  );
  // The bucket is a field too: a policy without a bucket condition does not cover it (s3-tests).
  expectCode(() => checkPolicyConditions(policy([{ key: 'k' }]), fieldsOf({ bucket: 'b', key: 'k' })), 'AccessDenied', /Extra input fields: bucket/);
  // SigV4 form fields other than x-amz-signature must be covered.
  expectCode(
    () => checkPolicyConditions(p, fieldsOf({ bucket: 'b', key: 'k', 'x-amz-credential': 'c', 'x-amz-signature': 's' })),
    'AccessDenied',
    /Extra input fields: x-amz-credential$/,
  );
});

test('PostObject conditions › exempt fields: policy, signature, x-amz-signature, AWSAccessKeyId, file, x-ignore-*', () => {
  for (const f of ['policy', 'signature', 'x-amz-signature', 'awsaccesskeyid', 'file', 'x-ignore-anything']) assert.equal(isExemptField(f), true, f);
  for (const f of ['key', 'bucket', 'x-amz-credential', 'x-amz-date', 'x-amz-algorithm', 'acl', 'content-type', 'x-amz-security-token'])
    assert.equal(isExemptField(f), false, f);
});

// ----------------------------------------------------------------------------------------------
// Signatures

const POLICY = b64({ expiration: FUTURE, conditions: [{ bucket: 'b' }, ['starts-with', '$key', '']] });

test('PostObject signature › SigV2 form (independent HMAC-SHA1) → authenticated as the key owner', () => {
  const signature = createHmac('sha1', SK).update(POLICY).digest('base64');
  const r = verifyPostSignature(fieldsOf({ AWSAccessKeyId: AK, policy: POLICY, signature }), lookup, { region: 'us-east-1' });
  assert.equal(r.accessKey, AK);
  assert.equal(r.payloadHash, 'UNSIGNED-PAYLOAD');
});

/** Independent SigV4 signing-key chain. */
function v4Key(date: string, region: string): Buffer {
  const h = (k: string | Buffer, d: string) => createHmac('sha256', k).update(d).digest();
  return h(h(h(h(`AWS4${SK}`, date), region), 's3'), 'aws4_request');
}

function v4Fields(overrides: Record<string, string> = {}): Map<string, string> {
  const signature = createHmac('sha256', v4Key('20250115', 'us-east-1')).update(POLICY).digest('hex');
  return fieldsOf({
    policy: POLICY,
    'x-amz-algorithm': 'AWS4-HMAC-SHA256',
    'x-amz-credential': `${AK}/20250115/us-east-1/s3/aws4_request`,
    'x-amz-date': '20250115T120000Z',
    'x-amz-signature': signature,
    ...overrides,
  });
}

test('PostObject signature › SigV4 form (independent key chain) → authenticated, scope and key set', () => {
  const r = verifyPostSignature(v4Fields(), lookup, { region: 'us-east-1' });
  assert.equal(r.accessKey, AK);
  assert.equal(r.scope, '20250115/us-east-1/s3/aws4_request');
  assert.deepEqual(r.signingKey, v4Key('20250115', 'us-east-1'));
});

test('PostObject signature › tampered policy or signature → 403 SignatureDoesNotMatch (never the secret)', () => {
  const v2sig = createHmac('sha1', SK).update(POLICY).digest('base64');
  const tamperedPolicy = b64({ expiration: '2099-01-01T00:00:00Z', conditions: [] });
  for (const fields of [
    fieldsOf({ AWSAccessKeyId: AK, policy: tamperedPolicy, signature: v2sig }),
    fieldsOf({ AWSAccessKeyId: AK, policy: POLICY, signature: v2sig.split('').reverse().join('') }),
    v4Fields({ policy: tamperedPolicy }),
    v4Fields({ 'x-amz-signature': '0'.repeat(64) }),
  ]) {
    const e = expectCode(() => verifyPostSignature(fields, lookup, { region: 'us-east-1' }), 'SignatureDoesNotMatch');
    assert.equal(e.status, 403);
    assert.equal(e.fields.AWSAccessKeyId, AK);
    assert.ok(!JSON.stringify(e.fields).includes(SK));
  }
});

test('PostObject signature › unknown access key → 403 InvalidAccessKeyId (SigV2 and SigV4)', () => {
  expectCode(
    () => verifyPostSignature(fieldsOf({ AWSAccessKeyId: 'NOPE', policy: POLICY, signature: 'x' }), lookup, { region: 'us-east-1' }),
    'InvalidAccessKeyId',
  );
  expectCode(
    () => verifyPostSignature(v4Fields({ 'x-amz-credential': 'NOPE/20250115/us-east-1/s3/aws4_request' }), lookup, { region: 'us-east-1' }),
    'InvalidAccessKeyId',
  );
});

test('PostObject signature › missing signature / policy / key id → 400 InvalidArgument naming the field', () => {
  const cases: Array<[Map<string, string>, string]> = [
    [fieldsOf({ AWSAccessKeyId: AK, policy: POLICY }), 'Signature'],
    [fieldsOf({ AWSAccessKeyId: AK, signature: 'x' }), 'Policy'],
    [fieldsOf({ policy: POLICY, signature: 'x' }), 'AWSAccessKeyId'],
    [fieldsOf({ policy: POLICY }), 'AWSAccessKeyId'],
    [v4Fields({ 'x-amz-signature': undefined as unknown as string }), 'x-amz-signature'],
  ];
  cases[4]![0].delete('x-amz-signature');
  for (const [fields, name] of cases) {
    const e = expectCode(() => verifyPostSignature(fields, lookup, { region: 'us-east-1' }), 'InvalidArgument');
    assert.equal(e.fields.ArgumentName, name);
  }
});

test('PostObject signature › SigV4 with another region, algorithm or mismatching x-amz-date → 400 InvalidArgument', () => {
  const e = expectCode(
    () => verifyPostSignature(v4Fields({ 'x-amz-credential': `${AK}/20250115/eu-west-1/s3/aws4_request` }), lookup, { region: 'us-east-1' }),
    'InvalidArgument',
  );
  assert.equal(e.fields.Region, 'us-east-1');
  expectCode(() => verifyPostSignature(v4Fields({ 'x-amz-algorithm': 'AWS4-HMAC-SHA1' }), lookup, { region: 'us-east-1' }), 'InvalidArgument');
  expectCode(() => verifyPostSignature(v4Fields({ 'x-amz-date': '20250116T000000Z' }), lookup, { region: 'us-east-1' }), 'InvalidArgument');
});

test('PostObject signature › no policy and no signature (anonymous form) → 403 AccessDenied', () => {
  expectCode(() => verifyPostSignature(fieldsOf({ key: 'k' }), lookup, { region: 'us-east-1' }), 'AccessDenied');
});

const BOTO_POST = String.raw`
import json, boto3
from botocore.config import Config
kw = dict(endpoint_url='http://127.0.0.1:9', aws_access_key_id='AKIAIOSFODNN7EXAMPLE',
          aws_secret_access_key='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', region_name='us-east-1')
v2 = boto3.client('s3', **kw).generate_presigned_post('bkt', 'up/${'$'}{filename}',
    Fields={'success_action_status': '201', 'Content-Type': 'text/plain'},
    Conditions=[{'success_action_status': '201'}, ['starts-with', '$Content-Type', 'text/'], ['content-length-range', 1, 1000]])
v4 = boto3.client('s3', config=Config(signature_version='s3v4'), **kw).generate_presigned_post('bkt', 'k.txt')
print(json.dumps({'v2': v2['fields'], 'v4': v4['fields']}))
`;

test('PostObject › botocore generate_presigned_post (default = SigV2 form, and s3v4) → signature and policy accepted', () => {
  const out = JSON.parse(execFileSync('python3', ['-c', BOTO_POST], { encoding: 'utf8' })) as Record<'v2' | 'v4', Record<string, string>>;
  assert.ok('signature' in out.v2 && 'AWSAccessKeyId' in out.v2, 'botocore default in us-east-1 is the SigV2 form');
  assert.ok('x-amz-signature' in out.v4);
  for (const [name, raw] of Object.entries(out)) {
    const fields = fieldsOf(raw);
    assert.equal(verifyPostSignature(fields, lookup, { region: 'us-east-1' }).accessKey, AK, name);
    const p = parsePostPolicy(fields.get('policy')!, Date.now());
    const key = fields.get('key')!.replace('${filename}', 'a.txt');
    checkPolicyConditions(p, new Map([...fields, ['bucket', 'bkt'], ['key', key]]));
    // The same form aimed at another bucket fails the policy.
    expectCode(() => checkPolicyConditions(p, new Map([...fields, ['bucket', 'other'], ['key', key]])), 'AccessDenied');
  }
});
