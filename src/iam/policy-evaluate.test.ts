// The evaluation table, conditions half: AWS's documented examples (home folder with ${aws:username},
// s3:prefix listings, IP and TLS restrictions, NotAction/NotResource, explicit deny, set operators,
// IfExists, Null, dates, numbers) → the decision AWS documents; plus a throughput line in the output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicySet } from './policy-evaluate.js';
import { evaluatePolicies } from './policy-evaluate.js';
import type { Row } from './policy-examples.js';
import {
  ACCOUNT,
  ANON,
  BUCKET,
  DATE_WINDOW,
  DENY_DELETE,
  HOME,
  IP_DENY,
  LIST_ROOT,
  MAX_KEYS,
  NOT_ACTION,
  NOT_RESOURCE_DENY,
  READONLY,
  READWRITE,
  ROLE_SESSION,
  ROOT,
  SSE_IF_EXISTS,
  SSE_NULL,
  SSE_REQUIRED,
  TAG_KEYS_ALL,
  TAG_KEYS_ANY,
  TAG_KEYS_ANY_IF_EXISTS,
  TLS_IP,
  TLS_ONLY,
  alice,
  contextOf,
  decide,
  obj,
} from './policy-examples.js';

const ROWS: Row[] = [
  // home folder with ${aws:username}
  {
    name: 'home: alice reads her own object',
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('home/alice/a.txt'),
    expect: 'Allow',
    by: 'UseHome',
  },
  {
    name: "home: alice reads bob's object",
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('home/bob/a.txt'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'home: alice lists her prefix',
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:prefix': 'home/alice/' },
    expect: 'Allow',
    by: 'ListHome',
  },
  {
    name: "home: alice lists bob's prefix",
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:prefix': 'home/bob/' },
    expect: 'ImplicitDeny',
  },
  {
    name: 'home: listing without s3:prefix (key absent → StringLike false)',
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    expect: 'ImplicitDeny',
  },
  {
    name: 'home: a role session has no aws:username → the variable resolves to nothing',
    set: { identity: [HOME] },
    principal: ROLE_SESSION,
    action: 's3:GetObject',
    resource: obj('home/job-1/a'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'home: alice deletes in her folder',
    set: { identity: [HOME] },
    principal: alice,
    action: 's3:DeleteObject',
    resource: obj('home/alice/x'),
    expect: 'Allow',
  },
  {
    name: 's3:prefix+delimiter: root listing with delimiter',
    set: { identity: [LIST_ROOT] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:prefix': '', 's3:delimiter': '/' },
    expect: 'Allow',
  },
  {
    name: 's3:prefix+delimiter: home/ without delimiter',
    set: { identity: [LIST_ROOT] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:prefix': 'home/' },
    expect: 'ImplicitDeny',
  },
  // IP restriction (deny NotIpAddress), IPv4, IPv6, IPv4-mapped
  {
    name: 'IP: inside 192.0.2.0/24',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SourceIp': '192.0.2.7' },
    expect: 'Allow',
  },
  {
    name: 'IP: outside → explicit deny beats readwrite',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SourceIp': '203.0.113.9' },
    expect: 'ExplicitDeny',
    by: 'IPAllow',
  },
  {
    name: 'IP: IPv6 inside the /64',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 'aws:SourceIp': '2001:db8:1234:5678::abcd' },
    expect: 'Allow',
  },
  {
    name: 'IP: IPv6 outside the /64',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 'aws:SourceIp': '2001:db8:1234:5679::1' },
    expect: 'ExplicitDeny',
  },
  {
    name: 'IP: IPv4-mapped IPv6 (as Node reports it) inside',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SourceIp': '::ffff:192.0.2.200' },
    expect: 'Allow',
  },
  {
    name: 'IP: the deny applies to the bucket too',
    set: { identity: [READWRITE], resource: IP_DENY },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 'aws:SourceIp': '10.0.0.1' },
    expect: 'ExplicitDeny',
  },
  // SecureTransport
  {
    name: 'TLS: plain HTTP denied',
    set: { identity: [READWRITE], resource: TLS_ONLY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SecureTransport': false },
    expect: 'ExplicitDeny',
    by: 'TLS',
  },
  {
    name: 'TLS: HTTPS allowed',
    set: { identity: [READWRITE], resource: TLS_ONLY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SecureTransport': true },
    expect: 'Allow',
  },
  {
    name: 'TLS: anonymous over HTTP denied explicitly',
    set: { resource: TLS_ONLY },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:SecureTransport': 'false' },
    expect: 'ExplicitDeny',
  },
  // NotAction / NotResource
  {
    name: 'NotAction: s3 action allowed by "everything but iam:*"',
    set: { identity: [NOT_ACTION] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    expect: 'Allow',
  },
  {
    name: 'NotAction: iam action not allowed',
    set: { identity: [NOT_ACTION] },
    principal: alice,
    action: 'iam:CreateUser',
    resource: '*',
    expect: 'ImplicitDeny',
  },
  {
    name: 'NotResource: deny outside "safe"',
    set: { identity: [READWRITE, NOT_RESOURCE_DENY] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotResource: inside "safe" allowed',
    set: { identity: [READWRITE, NOT_RESOURCE_DENY] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k', 'safe'),
    expect: 'Allow',
  },
  // explicit deny overrides allow
  {
    name: 'deny: readwrite + deny DeleteObject*',
    set: { identity: [READWRITE, DENY_DELETE] },
    principal: alice,
    action: 's3:DeleteObjectVersion',
    resource: obj('k'),
    expect: 'ExplicitDeny',
    by: 'NoDelete',
  },
  {
    name: 'deny: identity deny beats a bucket-policy allow',
    set: { identity: [DENY_DELETE], resource: ACCOUNT },
    principal: ROOT,
    action: 's3:DeleteObject',
    resource: obj('k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'deny: other actions still allowed',
    set: { identity: [READWRITE, DENY_DELETE] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    expect: 'Allow',
  },
  // ForAllValues / ForAnyValue
  {
    name: 'ForAllValues: every tag key listed',
    set: { identity: [TAG_KEYS_ALL] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    ctx: { 's3:RequestObjectTagKeys': ['Department'] },
    expect: 'Allow',
  },
  {
    name: 'ForAllValues: one key not listed',
    set: { identity: [TAG_KEYS_ALL] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    ctx: { 's3:RequestObjectTagKeys': ['Department', 'Secret'] },
    expect: 'ImplicitDeny',
  },
  {
    name: 'ForAllValues: no tag keys at all → true',
    set: { identity: [TAG_KEYS_ALL] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    expect: 'Allow',
  },
  {
    name: 'ForAllValues: empty set → true',
    set: { identity: [TAG_KEYS_ALL] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    ctx: { 's3:RequestObjectTagKeys': [] },
    expect: 'Allow',
  },
  {
    name: 'ForAnyValue: one key matches',
    set: { identity: [TAG_KEYS_ANY] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    ctx: { 's3:RequestObjectTagKeys': ['Secret', 'Project'] },
    expect: 'Allow',
  },
  {
    name: 'ForAnyValue: key absent → false',
    set: { identity: [TAG_KEYS_ANY] },
    principal: alice,
    action: 's3:PutObjectTagging',
    resource: obj('k'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ForAnyValue:…IfExists: key absent → true',
    set: { identity: [TAG_KEYS_ANY_IF_EXISTS] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    expect: 'Allow',
  },
  {
    name: 'ForAnyValue:…IfExists: no key matches → false',
    set: { identity: [TAG_KEYS_ANY_IF_EXISTS] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 's3:RequestObjectTagKeys': ['Secret'] },
    expect: 'ImplicitDeny',
  },
  // IfExists, negated operators on absent keys, Null
  { name: 'IfExists: header absent → true', set: { identity: [SSE_IF_EXISTS] }, principal: alice, action: 's3:PutObject', resource: obj('k'), expect: 'Allow' },
  {
    name: 'IfExists: AES256 → true',
    set: { identity: [SSE_IF_EXISTS] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 's3:x-amz-server-side-encryption': 'AES256' },
    expect: 'Allow',
  },
  {
    name: 'IfExists: aws:kms → false',
    set: { identity: [SSE_IF_EXISTS] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 's3:x-amz-server-side-encryption': 'aws:kms' },
    expect: 'ImplicitDeny',
  },
  {
    name: 'StringNotEquals: header absent → true → deny',
    set: { identity: [READWRITE], resource: SSE_REQUIRED },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'StringNotEquals: AES256 → no deny',
    set: { identity: [READWRITE], resource: SSE_REQUIRED },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 's3:x-amz-server-side-encryption': 'AES256' },
    expect: 'Allow',
  },
  {
    name: 'Null true: header absent → deny',
    set: { identity: [READWRITE], resource: SSE_NULL },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'Null true: header present → no deny',
    set: { identity: [READWRITE], resource: SSE_NULL },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('k'),
    ctx: { 's3:x-amz-server-side-encryption': 'aws:kms' },
    expect: 'Allow',
  },
  // dates and numbers
  {
    name: 'Date: inside the window',
    set: { identity: [DATE_WINDOW] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:CurrentTime': '2020-05-01T12:00:00Z' },
    expect: 'Allow',
  },
  {
    name: 'Date: after the window',
    set: { identity: [DATE_WINDOW] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:CurrentTime': '2020-07-01T00:00:00Z' },
    expect: 'ImplicitDeny',
  },
  {
    name: 'Date: epoch seconds in the context',
    set: { identity: [DATE_WINDOW] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('k'),
    ctx: { 'aws:CurrentTime': String(Date.UTC(2020, 4, 1) / 1000) },
    expect: 'Allow',
  },
  {
    name: 'Numeric: max-keys 5 ≤ 10',
    set: { identity: [MAX_KEYS] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:max-keys': 5 },
    expect: 'Allow',
  },
  {
    name: 'Numeric: max-keys 50 > 10',
    set: { identity: [MAX_KEYS] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:max-keys': '50' },
    expect: 'ImplicitDeny',
  },
  {
    name: 'Numeric: not a number never matches',
    set: { identity: [MAX_KEYS] },
    principal: alice,
    action: 's3:ListBucket',
    resource: BUCKET,
    ctx: { 's3:max-keys': 'ten' },
    expect: 'ImplicitDeny',
  },
];

function check(row: Row): void {
  const d = decide(row);
  assert.equal(d.decision, row.expect, d.reason);
  assert.equal(d.allowed, row.expect === 'Allow');
  if (row.expect === 'ImplicitDeny') assert.equal(d.statement, undefined);
  else assert.ok(d.statement, 'the deciding statement is reported');
  if (row.by !== undefined) assert.equal(d.statement?.sid, row.by);
}

describe('evaluatePolicies', () => {
  for (const row of ROWS) {
    it(`evaluatePolicies › ${row.name} → ${row.expect}`, () => {
      check(row);
    });
  }

  it('evaluatePolicies › the deciding statement names its policy and position (for logs)', () => {
    const d = evaluatePolicies(
      { identity: [READWRITE, DENY_DELETE] },
      { action: 's3:DeleteObject', resource: obj('k'), principal: alice, context: contextOf(alice) },
    );
    assert.deepEqual(d.statement, { source: 'identity', policy: 'p', index: 0, sid: 'NoDelete' });
    assert.match(d.reason, /explicit deny: identity p statement 0 \(NoDelete\)/);
  });

  it('evaluatePolicies › throughput (logged, not asserted): home policy + IP bucket policy + key policy', (t) => {
    const set: PolicySet = { identity: [HOME, READONLY], resource: IP_DENY, key: READWRITE };
    const req = { action: 's3:GetObject', resource: obj('home/alice/photo.jpg'), principal: alice, context: contextOf(alice, TLS_IP) };
    const n = 100_000;
    let allowed = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (evaluatePolicies(set, req).allowed) allowed++;
    const ns = Number(process.hrtime.bigint() - start);
    assert.equal(allowed, n);
    t.diagnostic(`${Math.round((n / ns) * 1e9).toLocaleString('en')} evaluations/s, ${(ns / n / 1000).toFixed(2)} µs each`);
  });
});
