// Parsing and validation of policy documents (AWS's MalformedPolicy reasons), the matching primitives
// (globs, CIDR blocks, variables) and the canned policies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CANNED_POLICY_DOCUMENTS, CANNED_POLICY_NAMES, cannedPolicy } from './canned-policies.js';
import type { ParseOptions } from './policy.js';
import { PolicyError, STRATA_ACCOUNT_ID, compilePolicy, parsePolicy, principalArn } from './policy.js';
import { Template, cidrContains, conditionContext, globMatch, globMatchEscaped, parseCidr, parseIp } from './policy-match.js';

const V = '2012-10-17';
const IDENTITY: ParseOptions = { kind: 'identity' };
const BUCKET: ParseOptions = { kind: 'resource', bucket: 'b' };
const allow = (extra: object = {}) => ({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', ...extra });
const pub = (extra: object = {}) => allow({ Principal: '*', ...extra });

/** [name, document, options, the reason AWS gives]. */
const MALFORMED: Array<[string, unknown, ParseOptions, string]> = [
  ['not JSON', '{"Version": ', IDENTITY, 'This policy contains invalid Json'],
  ['a JSON array', '[]', IDENTITY, 'This policy contains invalid Json'],
  ['Version unknown', { Version: '2012-10-18', Statement: [allow()] }, IDENTITY, 'The policy must contain a valid version string'],
  ['Version a number', { Version: 2012, Statement: [allow()] }, IDENTITY, 'The policy must contain a valid version string'],
  ['no Statement', { Version: V }, IDENTITY, 'Missing required field Statement'],
  ['Statement empty', { Version: V, Statement: [] }, IDENTITY, 'Could not parse the policy: Statement is empty!'],
  ['unknown top-level field', { Version: V, Statement: [allow()], Foo: 1 }, IDENTITY, 'Unknown field Foo'],
  ['unknown statement field', { Version: V, Statement: [allow({ Actions: 'x' })] }, IDENTITY, 'Unknown field Actions'],
  ['no Effect', { Version: V, Statement: [{ Action: 's3:GetObject', Resource: '*' }] }, IDENTITY, 'Missing required field Effect'],
  ['Effect hello', { Version: V, Statement: [allow({ Effect: 'hello' })] }, IDENTITY, 'Invalid effect: hello'],
  ['Effect lower-case', { Version: V, Statement: [allow({ Effect: 'allow' })] }, IDENTITY, 'Invalid effect: allow'],
  ['no Action', { Version: V, Statement: [{ Effect: 'Allow', Resource: '*' }] }, IDENTITY, 'Missing required field Action'],
  ['Action without a service', { Version: V, Statement: [allow({ Action: 'invalid_action' })] }, IDENTITY, 'Policy has invalid action'],
  ['unknown s3 action', { Version: V, Statement: [allow({ Action: 's3:GetObjectz' })] }, IDENTITY, 'Policy has invalid action'],
  ['s3 wildcard matching no action', { Version: V, Statement: [allow({ Action: 's3:Frobnicate*' })] }, IDENTITY, 'Policy has invalid action'],
  ['unknown service', { Version: V, Statement: [allow({ Action: 'ec2:RunInstances' })] }, IDENTITY, 'Policy has invalid action'],
  ['admin action in a bucket policy', { Version: V, Statement: [pub({ Action: 'admin:CreateUser' })] }, BUCKET, 'Policy has invalid action'],
  ['Action a number', { Version: V, Statement: [allow({ Action: 5 })] }, IDENTITY, 'Policy has invalid action'],
  ['Action and NotAction', { Version: V, Statement: [allow({ NotAction: 's3:PutObject' })] }, IDENTITY, 'Statement/policy already has instance of Action'],
  ['no Resource', { Version: V, Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }] }, IDENTITY, 'Missing required field Resource'],
  ['Resource not an ARN', { Version: V, Statement: [allow({ Resource: 'bucket/*' })] }, IDENTITY, 'Policy has invalid resource'],
  ['Resource too few ARN parts', { Version: V, Statement: [allow({ Resource: 'arn:aws:s3:b' })] }, IDENTITY, 'Policy has invalid resource'],
  ['bucket policy naming another bucket', { Version: V, Statement: [pub({ Resource: 'arn:aws:s3:::other/*' })] }, BUCKET, 'Policy has invalid resource'],
  [
    'bucket policy naming a bucket whose name starts the same',
    { Version: V, Statement: [pub({ Resource: 'arn:aws:s3:::bu/*' })] },
    { kind: 'resource', bucket: 'bucket' },
    'Policy has invalid resource',
  ],
  ['bucket policy naming another service', { Version: V, Statement: [pub({ Resource: 'arn:aws:sqs:::b' })] }, BUCKET, 'Policy has invalid resource'],
  ['bucket policy without Principal', { Version: V, Statement: [allow()] }, BUCKET, 'Missing required field Principal'],
  ['identity policy with Principal', { Version: V, Statement: [pub()] }, IDENTITY, 'Policy document should not specify a principal.'],
  ['Principal a bare name', { Version: V, Statement: [pub({ Principal: { AWS: 'user' } })] }, BUCKET, 'Invalid principal in policy'],
  [
    'Principal partial wildcard',
    { Version: V, Statement: [pub({ Principal: { AWS: `arn:aws:iam::${STRATA_ACCOUNT_ID}:user/*` } })] },
    BUCKET,
    'Invalid principal in policy',
  ],
  ['Principal unknown type', { Version: V, Statement: [pub({ Principal: { Bogus: '*' } })] }, BUCKET, 'Invalid principal in policy'],
  ['Principal empty object', { Version: V, Statement: [pub({ Principal: {} })] }, BUCKET, 'Invalid principal in policy'],
  [
    'unknown condition operator',
    { Version: V, Statement: [allow({ Condition: { StringEqualz: { 's3:prefix': 'a' } } })] },
    IDENTITY,
    'Invalid Condition type : StringEqualz',
  ],
  [
    'unknown set qualifier',
    { Version: V, Statement: [allow({ Condition: { 'ForSomeValues:StringEquals': { 's3:prefix': 'a' } } })] },
    IDENTITY,
    'Invalid Condition type : ForSomeValues:StringEquals',
  ],
  [
    'NullIfExists',
    { Version: V, Statement: [allow({ Condition: { NullIfExists: { 's3:prefix': 'true' } } })] },
    IDENTITY,
    'Invalid Condition type : NullIfExists',
  ],
  [
    'unknown s3 condition key',
    { Version: V, Statement: [allow({ Condition: { StringEquals: { 's3:x-acl': 'private' } } })] },
    IDENTITY,
    'Policy has an invalid condition key',
  ],
  [
    'condition key without service',
    { Version: V, Statement: [allow({ Condition: { StringEquals: { prefix: 'a' } } })] },
    IDENTITY,
    'Policy has an invalid condition key',
  ],
  ['invalid IP', { Version: V, Statement: [allow({ Condition: { IpAddress: { 'aws:SourceIp': '123' } } })] }, IDENTITY, 'Invalid IP address in Conditions'],
  [
    'IPv4 prefix over 32',
    { Version: V, Statement: [allow({ Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } })] },
    IDENTITY,
    'Invalid IP address in Conditions',
  ],
  [
    'number not a number',
    { Version: V, Statement: [allow({ Condition: { NumericLessThan: { 's3:max-keys': 'ten' } } })] },
    IDENTITY,
    'Invalid value in Conditions for operator NumericLessThan',
  ],
  [
    'date not a date',
    { Version: V, Statement: [allow({ Condition: { DateLessThan: { 'aws:CurrentTime': 'tomorrow' } } })] },
    IDENTITY,
    'Invalid value in Conditions for operator DateLessThan',
  ],
  [
    'Bool not a boolean',
    { Version: V, Statement: [allow({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } })] },
    IDENTITY,
    'Invalid value in Conditions for operator Bool',
  ],
  [
    'condition value an object',
    { Version: V, Statement: [allow({ Condition: { StringEquals: { 's3:prefix': { a: 1 } } } })] },
    IDENTITY,
    'Invalid value in Conditions for operator StringEquals',
  ],
  ['duplicate Sid', { Version: V, Statement: [allow({ Sid: 'A' }), allow({ Sid: 'A' })] }, IDENTITY, 'The Statement Ids in the policy are not unique'],
];

describe('parsePolicy', () => {
  for (const [name, doc, options, reason] of MALFORMED) {
    it(`parsePolicy › ${name} → MalformedPolicy "${reason}"`, () => {
      const r = parsePolicy(doc, options);
      assert.equal(r.ok, false, 'must be refused');
      if (r.ok) return;
      assert.ok(r.error instanceof PolicyError);
      assert.equal(r.error.code, 'MalformedPolicy');
      assert.equal(r.error.reason, reason);
    });
  }

  const VALID: Array<[string, unknown, ParseOptions]> = [
    ['Statement as an object, no Version (2008-10-17 assumed)', { Statement: allow() }, IDENTITY],
    ['Version 2008-10-17', { Version: '2008-10-17', Statement: [allow()] }, IDENTITY],
    ['Sid and Id', { Version: V, Id: 'x', Statement: [allow({ Sid: 'Read all' })] }, IDENTITY],
    ['Action * and s3:*', { Version: V, Statement: [allow({ Action: ['*', 's3:*', 'S3:get*', 's3:?etObject'] })] }, IDENTITY],
    [
      'admin, sts, iam, kms actions in identity policies',
      { Version: V, Statement: [allow({ Action: ['admin:CreateUser', 'sts:AssumeRole', 'iam:*', 'kms:*'] })] },
      IDENTITY,
    ],
    ['NotAction and NotResource', { Version: V, Statement: [{ Effect: 'Deny', NotAction: 's3:GetObject', NotResource: 'arn:aws:s3:::b/*' }] }, IDENTITY],
    [
      'bucket policy with bucket and object ARNs',
      { Version: V, Statement: [pub({ Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*', 'arn:aws:s3:::b*'] })] },
      BUCKET,
    ],
    ['bucket policy with a variable in the resource', { Version: V, Statement: [pub({ Resource: 'arn:aws:s3:::b/${aws:username}/*' })] }, BUCKET],
    [
      'every principal form',
      {
        Version: V,
        Statement: [
          pub({ Principal: { AWS: '*' } }),
          pub({ Principal: { AWS: [STRATA_ACCOUNT_ID, principalArn('user', 'a.b@c'), principalArn('role', 'r'), principalArn('root', '')] } }),
          pub({ Principal: { CanonicalUser: 'abc123' } }),
          pub({ Principal: { Service: 'logging.s3.amazonaws.com' } }),
          pub({ Principal: undefined, NotPrincipal: { AWS: `arn:aws:sts::${STRATA_ACCOUNT_ID}:assumed-role/r/s` } }),
        ],
      },
      BUCKET,
    ],
    [
      'every condition operator family',
      {
        Version: V,
        Statement: [
          allow({
            Condition: {
              StringEqualsIgnoreCase: { 'aws:UserAgent': 'x' },
              'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': 'a*' },
              'ForAllValues:StringNotEquals': { 's3:RequestObjectTagKeys': ['b'] },
              NumericGreaterThanEquals: { 's3:max-keys': 1.5 },
              DateGreaterThanIfExists: { 'aws:CurrentTime': 1700000000 },
              Bool: { 'aws:SecureTransport': true },
              BinaryEquals: { 'aws:UserAgent': 'QmluYXJ5' },
              IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '::1', '2001:db8::/32'] },
              ArnNotLikeIfExists: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/x' },
              Null: { 's3:x-amz-acl': false },
              StringLike: { 's3:ExistingObjectTag/Team': 'a', 's3:RequestObjectTag/Team': 'b', 'sts:ExternalId': 'c' },
            },
          }),
        ],
      },
      IDENTITY,
    ],
  ];
  for (const [name, doc, options] of VALID) {
    it(`parsePolicy › ${name} → accepted`, () => {
      const r = parsePolicy(doc, options);
      assert.equal(r.ok, true, r.ok ? '' : r.error.reason);
    });
  }

  it('parsePolicy › the text is kept as given (GetBucketPolicy returns it)', () => {
    const text = `{"Version":"${V}","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`;
    const r = parsePolicy(text, IDENTITY);
    assert.ok(r.ok);
    assert.equal(r.policy.text, text);
    assert.equal(r.policy.version, V);
    assert.equal(r.policy.statements.length, 1);
  });
});

describe('policy matching primitives', () => {
  it('globMatch › * spans any run (slashes included), ? one character, the rest exact', () => {
    const yes: Array<[string, string]> = [
      ['*', ''],
      ['a*', 'a/b/c'],
      ['a*c', 'abbbc'],
      ['a?c', 'abc'],
      ['*.txt', 'x.txt.txt'],
      ['a*b*c', 'aXbYbZc'],
      ['', ''],
    ];
    const no: Array<[string, string]> = [
      ['a?c', 'ac'],
      ['a*c', 'abcd'],
      ['abc', 'ABC'],
      ['*.txt', 'x.txt.bak'],
      ['', 'a'],
      ['a', ''],
    ];
    for (const [p, t] of yes) assert.equal(globMatch(p, t), true, `${p} ~ ${t}`);
    for (const [p, t] of no) assert.equal(globMatch(p, t), false, `${p} !~ ${t}`);
  });

  it('globMatchEscaped › \\u0000 makes the next * or ? literal; the rest is globMatch (no regex: pathological patterns stay linear-ish)', () => {
    assert.equal(globMatchEscaped('\u0000*a*', '*abc'), true);
    assert.equal(globMatchEscaped('\u0000*a*', 'xabc'), false);
    assert.equal(globMatchEscaped('a\u0000?', 'a?'), true);
    assert.equal(globMatchEscaped('a\u0000?', 'ab'), false);
    assert.equal(globMatchEscaped('my-bucket/*/\u0000*', 'my-bucket/x/y/*'), true);
    assert.equal(globMatchEscaped(`${'*a'.repeat(30)}\u0000*`, 'a'.repeat(5000)), false);
    assert.equal(globMatchEscaped('plain*', 'plainly'), true, 'no escape: plain globMatch');
  });

  it('parseIp / parseCidr › IPv4, IPv6 (compressed, embedded IPv4, zone), prefixes; garbage refused', () => {
    const ip = (s: string) => Buffer.from(parseIp(s) ?? []).toString('hex');
    assert.equal(ip('192.0.2.1'), '00000000000000000000ffffc0000201');
    assert.equal(ip('::ffff:192.0.2.1'), '00000000000000000000ffffc0000201');
    assert.equal(ip('2001:db8::1'), '20010db8000000000000000000000001');
    assert.equal(ip('::'), '0'.repeat(32));
    assert.equal(ip('fe80::1%eth0'), 'fe800000000000000000000000000001');
    for (const bad of ['1.2.3', '256.0.0.1', '1.2.3.4.5', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '']) {
      assert.equal(parseIp(bad), undefined, bad);
    }
    const in4 = parseCidr('10.1.0.0/16')!;
    assert.ok(cidrContains(in4, parseIp('10.1.255.3')!));
    assert.ok(!cidrContains(in4, parseIp('10.2.0.1')!));
    const odd = parseCidr('192.0.2.128/25')!;
    assert.ok(cidrContains(odd, parseIp('192.0.2.200')!));
    assert.ok(!cidrContains(odd, parseIp('192.0.2.100')!));
    const v6 = parseCidr('2001:db8:1234:5678::/64')!;
    assert.ok(cidrContains(v6, parseIp('2001:db8:1234:5678:ffff::1')!));
    assert.ok(!cidrContains(v6, parseIp('2001:db8:1234:5679::1')!));
    assert.ok(cidrContains(parseCidr('0.0.0.0/0')!, parseIp('8.8.8.8')!));
    assert.ok(!cidrContains(parseCidr('0.0.0.0/0')!, parseIp('2001:db8::1')!), 'an IPv4 block holds no native IPv6 address');
    assert.equal(parseCidr('10.0.0.0/33'), undefined);
    assert.equal(parseCidr('::/129'), undefined);
  });

  it('Template › variables resolve from the context; an absent one makes the string unresolvable', () => {
    const ctx = conditionContext({ 'aws:username': 'alice', 'AWS:UserId': 'AIDA1', multi: ['a', 'b'] });
    assert.equal(Template.of('home/${aws:username}/*', true).resolve(ctx), 'home/alice/*');
    assert.equal(Template.of('${aws:userid}', true).resolve(ctx), 'AIDA1', 'keys are case-insensitive');
    assert.equal(Template.of('${aws:SourceIp}', true).resolve(ctx), undefined);
    assert.equal(Template.of("${aws:SourceIp, 'none'}", true).resolve(ctx), 'none');
    assert.equal(Template.of('${multi}', true).resolve(ctx), undefined, 'a multivalued key is not substituted');
    assert.equal(Template.of('${aws:username}', false).resolve(ctx), '${aws:username}');
  });
});

describe('canned policies', () => {
  it('cannedPolicy › readonly, readwrite, writeonly, diagnostics, consoleAdmin compile; unknown names → undefined', () => {
    assert.deepEqual(CANNED_POLICY_NAMES, ['readonly', 'readwrite', 'writeonly', 'diagnostics', 'consoleAdmin']);
    for (const name of CANNED_POLICY_NAMES) {
      const p = cannedPolicy(name);
      assert.equal(p?.name, name);
      assert.ok(parsePolicy(CANNED_POLICY_DOCUMENTS[name], IDENTITY).ok);
    }
    assert.equal(cannedPolicy('ReadOnly'), undefined);
  });
});

describe('conditionKeys', () => {
  it('compilePolicy › the keys its conditions test, normalised (prefix lower-cased, a tag key as written); none without conditions', () => {
    const p = compilePolicy(
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: '*',
            Condition: { StringEquals: { 'S3:ExistingObjectTag/Team': 'a', 'aws:SourceIp': '1.2.3.4' } },
          },
          { Effect: 'Deny', Action: 's3:PutObject', Resource: '*', Condition: { 'ForAnyValue:StringLike': { 's3:RequestObjectTagKeys': 'x*' } } },
        ],
      },
      IDENTITY,
    );
    assert.deepEqual([...p.conditionKeys].sort(), ['aws:sourceip', 's3:existingobjecttag/Team', 's3:requestobjecttagkeys']);
    assert.equal(compilePolicy({ Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }, IDENTITY).conditionKeys.size, 0);
  });
});
