// Bucket policies: AWS's "public" (which statements and conditions make a policy public), the
// compile cache (one compilation per document text, bounded), RestrictPublicBuckets on the policy
// authorize() gets, and PutBucketPolicy's validation (MalformedPolicy, BlockPublicPolicy).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CompiledPolicy, RequestPrincipal } from '../iam/policy.js';
import { STRATA_ACCOUNT_ID, compilePolicy, principalArn } from '../iam/policy.js';
import { evaluatePolicies } from '../iam/policy-evaluate.js';
import { conditionContext } from '../iam/policy-match.js';
import type { BucketRecord } from '../store/types.js';
import {
  bucketPolicyAccess,
  compiledBucketPolicy,
  compiledPolicyCacheSize,
  isPublicPolicy,
  principalUserNames,
  validateBucketPolicy,
} from './bucket-policy.js';
import { S3Error } from './errors.js';

const BUCKET = { name: 'pub', owner: 'root' } as unknown as BucketRecord;

function doc(statement: Record<string, unknown> | Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statement });
}

const allow = (principal: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  Effect: 'Allow',
  Principal: principal,
  Action: 's3:GetObject',
  Resource: 'arn:aws:s3:::pub/*',
  ...extra,
});

const isPublic = (text: string): boolean => isPublicPolicy(compilePolicy(text, { kind: 'resource', bucket: 'pub' }));

describe('isPublicPolicy', () => {
  it('isPublicPolicy › Principal "*", {"AWS":"*"}, {"CanonicalUser":"*"}, a NotPrincipal → public', () => {
    assert.equal(isPublic(doc(allow('*'))), true);
    assert.equal(isPublic(doc(allow({ AWS: '*' }))), true);
    assert.equal(isPublic(doc(allow({ AWS: ['arn:aws:iam::000000000000:user/alice', '*'] }))), true);
    assert.equal(isPublic(doc(allow({ CanonicalUser: '*' }))), true);
    const notPrincipal = {
      Effect: 'Allow',
      NotPrincipal: { AWS: 'arn:aws:iam::000000000000:user/alice' },
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::pub/*',
    };
    assert.equal(isPublic(doc(notPrincipal)), true);
  });

  it('isPublicPolicy › fixed principals only, or Deny "*" → not public', () => {
    assert.equal(isPublic(doc(allow({ AWS: 'arn:aws:iam::000000000000:user/alice' }))), false);
    assert.equal(isPublic(doc(allow({ AWS: '000000000000' }))), false);
    assert.equal(isPublic(doc({ ...allow('*'), Effect: 'Deny' })), false);
  });

  it('isPublicPolicy › "*" pinned by aws:SourceIp (a /8 or narrower block), aws:SourceArn, aws:SourceAccount, aws:userid → not public', () => {
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.1/32', '10.0.0.0/8'] } } }))), false);
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': '2001:db8::/32' } } }))), false);
    assert.equal(isPublic(doc(allow('*', { Condition: { ArnEquals: { 'aws:SourceArn': 'arn:aws:cloudfront::000000000000:distribution/E1' } } }))), false);
    assert.equal(isPublic(doc(allow('*', { Condition: { StringEquals: { 'aws:SourceAccount': '000000000000' } } }))), false);
    assert.equal(isPublic(doc(allow('*', { Condition: { StringEquals: { 'aws:userid': 'AIDAEXAMPLE' } } }))), false);
  });

  it('isPublicPolicy › "*" with a wide CIDR, a wildcard, a variable, a negated operator, …IfExists or another key → public', () => {
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': ['127.0.0.1/32', '0.0.0.0/1'] } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': '::/0' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { IpAddressIfExists: { 'aws:SourceIp': '10.0.0.0/8' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { StringLike: { 'aws:SourceVpc': 'vpc-*' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { StringEquals: { 'aws:SourceAccount': '${aws:username}' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { StringLike: { 'aws:Referer': 'https://example.com/*' } } }))), true);
    assert.equal(isPublic(doc(allow('*', { Condition: { Bool: { 'aws:SecureTransport': 'true' } } }))), true);
  });

  it('isPublicPolicy › one public statement among fixed ones → public', () => {
    assert.equal(isPublic(doc([allow({ AWS: 'arn:aws:iam::000000000000:user/alice' }), { ...allow('*'), Sid: 'Public' }])), true);
  });
});

describe('compiledBucketPolicy (the cache)', () => {
  it('compiledBucketPolicy › the same text → the same compiled policy; a text that does not compile → undefined', () => {
    const text = doc(allow('*'));
    const a = compiledBucketPolicy(text);
    assert.ok(a);
    assert.equal(a.public, true);
    assert.equal(compiledBucketPolicy(text), a);
    assert.equal(compiledBucketPolicy('{"Statement": 1}'), undefined);
  });

  it('compiledBucketPolicy › bounded: 600 distinct documents leave at most 512 entries, the recently used kept', () => {
    const keep = doc({ ...allow('*'), Sid: 'keep' });
    const kept = compiledBucketPolicy(keep);
    for (let i = 0; i < 600; i++) {
      compiledBucketPolicy(doc({ ...allow('*'), Sid: `s${i}` }));
      if (i % 100 === 0) compiledBucketPolicy(keep); // used again: never the oldest
    }
    assert.ok(compiledPolicyCacheSize() <= 512, String(compiledPolicyCacheSize()));
    assert.equal(compiledBucketPolicy(keep), kept);
  });
});

const ANON: RequestPrincipal = { kind: 'anonymous', account: '', arn: '', userId: 'anonymous' };
const ALICE: RequestPrincipal = { kind: 'user', account: STRATA_ACCOUNT_ID, arn: principalArn('user', 'alice'), userId: 'u-alice', name: 'alice' };

function decide(policy: CompiledPolicy | undefined, who: RequestPrincipal, action = 's3:GetObject'): string {
  return evaluatePolicies({ resource: policy }, { action, resource: 'arn:aws:s3:::pub/k', principal: who, context: conditionContext({}) }).decision;
}

describe('bucketPolicyAccess', () => {
  const publicRead = doc([allow('*'), { ...allow('*'), Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteObject' }]);
  const pab = (restrict: boolean) =>
    JSON.stringify({ BlockPublicAcls: false, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: restrict });

  it('bucketPolicyAccess › no policy → undefined; a policy → it, compiled once', () => {
    assert.equal(bucketPolicyAccess(BUCKET, {}), undefined);
    const p = bucketPolicyAccess(BUCKET, { policy: publicRead });
    assert.ok(p);
    assert.equal(bucketPolicyAccess(BUCKET, { policy: publicRead }), p);
    assert.equal(decide(p, ANON), 'Allow');
    assert.equal(decide(p, ALICE), 'Allow');
  });

  it('bucketPolicyAccess › RestrictPublicBuckets on a public policy → anonymous callers get nothing, account users keep access, Deny still applies', () => {
    const p = bucketPolicyAccess(BUCKET, { policy: publicRead, publicAccessBlock: pab(true) });
    assert.equal(decide(p, ANON), 'ImplicitDeny');
    assert.equal(decide(p, ALICE), 'Allow');
    assert.equal(decide(p, ANON, 's3:DeleteObject'), 'ExplicitDeny');
    assert.equal(decide(p, ALICE, 's3:DeleteObject'), 'ExplicitDeny');
    // Switched off again: the policy as written.
    assert.equal(decide(bucketPolicyAccess(BUCKET, { policy: publicRead, publicAccessBlock: pab(false) }), ANON), 'Allow');
  });

  it('bucketPolicyAccess › RestrictPublicBuckets on a non-public policy → unchanged', () => {
    const pinned = doc(allow('*', { Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } }));
    const p = bucketPolicyAccess(BUCKET, { policy: pinned, publicAccessBlock: pab(true) });
    assert.equal(p, compiledBucketPolicy(pinned)?.policy);
  });
});

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof S3Error, String(err));
    return { code: err.code, message: err.message };
  }
  assert.fail('expected an S3Error');
}

describe('validateBucketPolicy', () => {
  it('validateBucketPolicy › MalformedPolicy with the reason: invalid JSON, empty, no Principal, a Resource of another bucket', () => {
    assert.deepEqual(
      refusal(() => validateBucketPolicy('{', 'pub', {})),
      { code: 'MalformedPolicy', message: 'This policy contains invalid Json' },
    );
    assert.equal(refusal(() => validateBucketPolicy('', 'pub', {})).code, 'MalformedPolicy');
    const noPrincipal = doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pub/*' });
    assert.deepEqual(
      refusal(() => validateBucketPolicy(noPrincipal, 'pub', {})),
      { code: 'MalformedPolicy', message: 'Missing required field Principal' },
    );
    const other = doc(allow('*', { Resource: 'arn:aws:s3:::other/*' }));
    assert.deepEqual(
      refusal(() => validateBucketPolicy(other, 'pub', {})),
      { code: 'MalformedPolicy', message: 'Policy has invalid resource' },
    );
  });

  it('validateBucketPolicy › a user of this server that does not exist → MalformedPolicy "Invalid principal in policy"', () => {
    const text = doc([
      allow({ AWS: ['arn:aws:iam::000000000000:user/alice', 'arn:aws:iam::111122223333:user/elsewhere'] }),
      { ...allow('*'), Sid: 'Deny', Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::000000000000:user/bob' } },
    ]);
    assert.deepEqual(principalUserNames(text).sort(), ['alice', 'bob']);
    const known = new Set(['alice', 'bob']);
    assert.equal(validateBucketPolicy(text, 'pub', {}, (n) => known.has(n)).statements.length, 2);
    known.delete('bob');
    assert.deepEqual(
      refusal(() => validateBucketPolicy(text, 'pub', {}, (n) => known.has(n))),
      {
        code: 'MalformedPolicy',
        message: 'Invalid principal in policy',
      },
    );
  });

  it('validateBucketPolicy › BlockPublicPolicy: a public policy → AccessDenied, a fixed-principal one passes', () => {
    const block = { publicAccessBlock: JSON.stringify({ BlockPublicPolicy: true }) };
    assert.deepEqual(
      refusal(() => validateBucketPolicy(doc(allow('*')), 'pub', block)),
      { code: 'AccessDenied', message: 'Access Denied' },
    );
    assert.equal(validateBucketPolicy(doc(allow({ AWS: 'arn:aws:iam::000000000000:user/alice' })), 'pub', block).kind, 'resource');
    assert.equal(validateBucketPolicy(doc(allow('*')), 'pub', {}).kind, 'resource');
  });
});
