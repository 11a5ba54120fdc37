// The evaluation table: AWS's documented policy examples (IAM policy reference, S3 bucket policy
// examples) with requests and the decision AWS documents for each; plus a throughput line in the output.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cannedPolicy } from './canned-policies.js';
import type { CompiledPolicy, RequestPrincipal } from './policy.js';
import { STRATA_ACCOUNT_ID, compilePolicy, principalArn, principalContextValues } from './policy.js';
import type { PolicySet } from './policy-evaluate.js';
import { evaluatePolicies } from './policy-evaluate.js';
import { conditionContext } from './policy-match.js';

const user = (name: string): RequestPrincipal => ({
  kind: 'user',
  account: STRATA_ACCOUNT_ID,
  arn: principalArn('user', name),
  userId: `AIDA${name.toUpperCase()}`,
  name,
});
const ROOT: RequestPrincipal = { kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: 'root' };
const ANON: RequestPrincipal = { kind: 'anonymous', account: '', arn: '', userId: 'anonymous' };
const ROLE_SESSION: RequestPrincipal = {
  kind: 'assumed-role',
  account: STRATA_ACCOUNT_ID,
  arn: `arn:aws:sts::${STRATA_ACCOUNT_ID}:assumed-role/ci/job-1`,
  roleArn: principalArn('role', 'ci'),
  userId: 'AROACI:job-1',
  name: 'job-1',
};

const id = (doc: object, name = 'p'): CompiledPolicy => compilePolicy(doc, { kind: 'identity', name });
const bucketPolicy = (doc: object, bucket = 'b'): CompiledPolicy => compilePolicy(doc, { kind: 'resource', bucket });
const V = '2012-10-17';
const obj = (key: string, bucket = 'b') => `arn:aws:s3:::${bucket}/${key}`;
const BUCKET = 'arn:aws:s3:::b';

// --- documents, from the AWS examples they are named after ---
/** IAM reference, "home directory" example: list and use only home/<username>/. */
const HOME = id({
  Version: V,
  Statement: [
    {
      Sid: 'ListHome',
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: BUCKET,
      Condition: { StringLike: { 's3:prefix': ['home/${aws:username}/*', 'home/${aws:username}/'] } },
    },
    { Sid: 'UseHome', Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::b/home/${aws:username}/*' },
  ],
});
/** S3 console example: list the root and home/ with delimiter '/'. */
const LIST_ROOT = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringEquals: { 's3:prefix': ['', 'home/'], 's3:delimiter': ['/'] } } },
});
/** S3 bucket policy example: deny every request not from these ranges. */
const IP_DENY = bucketPolicy({
  Version: V,
  Statement: [
    {
      Sid: 'IPAllow',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      Condition: { NotIpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:DB8:1234:5678::/64'] } },
    },
  ],
});
/** S3 example: deny plain HTTP. */
const TLS_ONLY = bucketPolicy({
  Version: V,
  Statement: {
    Sid: 'TLS',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 's3:*',
    Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  },
});
/** S3 example: public read (anonymous GET). */
const PUBLIC_READ = bucketPolicy({
  Version: V,
  Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: ['arn:aws:s3:::b/*'] }],
});
const READWRITE = cannedPolicy('readwrite')!;
const READONLY = cannedPolicy('readonly')!;
const NOT_ACTION = id({ Version: V, Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } });
const NOT_RESOURCE_DENY = id({ Version: V, Statement: { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::safe', 'arn:aws:s3:::safe/*'] } });
const DENY_DELETE = id({ Version: V, Statement: { Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteObject*', Resource: '*' } });
const TAG_KEYS_ALL = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:PutObjectTagging',
    Resource: '*',
    Condition: { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['Department', 'Project'] } },
  },
});
const TAG_KEYS_ANY = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:PutObjectTagging',
    Resource: '*',
    Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['Project'] } },
  },
});
const SSE_IF_EXISTS = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: { StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'AES256' } } },
});
/** S3 example: deny uploads that do not ask for AES256 (a missing header is denied too: negated operator). */
const SSE_REQUIRED = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
  },
});
const SSE_NULL = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } },
  },
});
/** IAM reference: allow only within a date range. */
const DATE_WINDOW = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: '*',
    Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } },
  },
});
const MAX_KEYS = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } } },
});
const ONLY_BOB = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: [principalArn('user', 'bob')] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
});
const ACCOUNT = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: STRATA_ACCOUNT_ID }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
});
const ROLE = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: principalArn('role', 'ci') }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
});
const NOT_PRINCIPAL = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Deny', NotPrincipal: { AWS: principalArn('user', 'bob') }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret/*' },
});
const REFERER = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringLike: { 'aws:Referer': ['http://www.example.com/*'] } },
  },
});
const NO_REFERER_FOREIGN = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringNotLike: { 'aws:Referer': ['http://www.example.com/*'] } },
  },
});
const DEV_ARN = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/dev-*' } } },
});
const WILD = id({ Version: V, Statement: { Effect: 'Allow', Action: ['S3:get*', 's3:?utObject'], Resource: 'arn:aws:s3:::b/docs/*.txt' } });
const LITERAL_STAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${*}${?}${$}' } });
const OLD_VERSION = id({ Version: '2008-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' } });
const LIST_ALL = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::*' } });
const ADMIN = cannedPolicy('consoleAdmin')!;
const DIAG = cannedPolicy('diagnostics')!;
const WRITEONLY = cannedPolicy('writeonly')!;
const USERID_VAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:userid}/*' } });
const DEFAULT_VAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: "arn:aws:s3:::b/${aws:username, 'shared'}/*" } });

type Ctx = Record<string, string | number | boolean | string[] | undefined>;
interface Row {
  name: string;
  set: PolicySet;
  principal: RequestPrincipal;
  action: string;
  resource: string;
  ctx?: Ctx;
  expect: 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';
  /** The Sid or the statement index of the deciding statement, when it matters. */
  by?: string;
}

const alice = user('alice');
const bob = user('bob');
const TLS_IP = { 'aws:SourceIp': '192.0.2.7', 'aws:SecureTransport': true };

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
  // public read and principals
  {
    name: 'public-read: anonymous GET',
    set: { resource: PUBLIC_READ },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('index.html'),
    expect: 'Allow',
    by: 'PublicRead',
  },
  {
    name: 'public-read: anonymous PUT',
    set: { resource: PUBLIC_READ },
    principal: ANON,
    action: 's3:PutObject',
    resource: obj('index.html'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'public-read: anonymous listing',
    set: { resource: PUBLIC_READ },
    principal: ANON,
    action: 's3:ListBucket',
    resource: BUCKET,
    expect: 'ImplicitDeny',
  },
  {
    name: 'public-read: a user without identity policies reads too',
    set: { resource: PUBLIC_READ },
    principal: bob,
    action: 's3:GetObject',
    resource: obj('x'),
    expect: 'Allow',
  },
  {
    name: 'public-read: anonymous identity policies are ignored',
    set: { identity: [READWRITE] },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('x'),
    expect: 'ImplicitDeny',
  },
  { name: 'Principal user ARN: bob allowed', set: { resource: ONLY_BOB }, principal: bob, action: 's3:GetObject', resource: obj('x'), expect: 'Allow' },
  { name: 'Principal user ARN: alice not', set: { resource: ONLY_BOB }, principal: alice, action: 's3:GetObject', resource: obj('x'), expect: 'ImplicitDeny' },
  {
    name: 'Principal user ARN: anonymous not',
    set: { resource: ONLY_BOB },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('x'),
    expect: 'ImplicitDeny',
  },
  { name: 'Principal account id: the account root', set: { resource: ACCOUNT }, principal: ROOT, action: 's3:GetObject', resource: obj('x'), expect: 'Allow' },
  {
    name: 'Principal account id: not its users (they need identity policies)',
    set: { resource: ACCOUNT },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('x'),
    expect: 'ImplicitDeny',
  },
  { name: 'Principal role ARN: its sessions', set: { resource: ROLE }, principal: ROLE_SESSION, action: 's3:PutObject', resource: obj('x'), expect: 'Allow' },
  {
    name: 'NotPrincipal: everyone but bob denied',
    set: { identity: [READWRITE], resource: NOT_PRINCIPAL },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('secret/x'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'NotPrincipal: bob passes',
    set: { identity: [READWRITE], resource: NOT_PRINCIPAL },
    principal: bob,
    action: 's3:GetObject',
    resource: obj('secret/x'),
    expect: 'Allow',
  },
  {
    name: 'Referer: StringLike matches',
    set: { resource: REFERER },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('a.png'),
    ctx: { 'aws:Referer': 'http://www.example.com/page' },
    expect: 'Allow',
  },
  {
    name: 'Referer: absent → StringLike false',
    set: { resource: REFERER },
    principal: ANON,
    action: 's3:GetObject',
    resource: obj('a.png'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'StringNotLike: absent key → true → deny',
    set: { identity: [READWRITE], resource: NO_REFERER_FOREIGN },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'ExplicitDeny',
  },
  {
    name: 'ArnLike on aws:PrincipalArn: dev-* user',
    set: { identity: [DEV_ARN] },
    principal: user('dev-carol'),
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'Allow',
  },
  {
    name: 'ArnLike on aws:PrincipalArn: other user',
    set: { identity: [DEV_ARN] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'ImplicitDeny',
  },
  // narrowing: access key inline policy, session policy
  {
    name: 'key policy: readwrite user, readonly key → GET allowed',
    set: { identity: [READWRITE], key: READONLY },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'Allow',
  },
  {
    name: 'key policy: readwrite user, readonly key → PUT denied',
    set: { identity: [READWRITE], key: READONLY },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('a'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'key policy: cannot widen a readonly user',
    set: { identity: [READONLY], key: READWRITE },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('a'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'session policy: narrows the role',
    set: { identity: [READWRITE], session: WRITEONLY },
    principal: ROLE_SESSION,
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'session policy: both allow',
    set: { identity: [READWRITE], session: WRITEONLY },
    principal: ROLE_SESSION,
    action: 's3:PutObject',
    resource: obj('a'),
    expect: 'Allow',
  },
  {
    name: 'key policy: narrows a bucket-policy grant too',
    set: { resource: ONLY_BOB, key: WRITEONLY },
    principal: bob,
    action: 's3:GetObject',
    resource: obj('a'),
    expect: 'ImplicitDeny',
  },
  // the language details
  {
    name: 'action names are case-insensitive, wildcards * and ?',
    set: { identity: [WILD] },
    principal: alice,
    action: 's3:GetObjectVersion',
    resource: obj('docs/a/b.txt'),
    expect: 'Allow',
  },
  {
    name: '? matches one character of the action',
    set: { identity: [WILD] },
    principal: alice,
    action: 's3:PutObject',
    resource: obj('docs/x.txt'),
    expect: 'Allow',
  },
  {
    name: 'resources are case-sensitive',
    set: { identity: [WILD] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('Docs/x.txt'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'resource glob: * does not end the match early',
    set: { identity: [WILD] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('docs/x.txt.bak'),
    expect: 'ImplicitDeny',
  },
  {
    name: '${*}${?}${$} are the literal characters',
    set: { identity: [LITERAL_STAR] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('*?$'),
    expect: 'Allow',
  },
  { name: '${*} is not a wildcard', set: { identity: [LITERAL_STAR] }, principal: alice, action: 's3:GetObject', resource: obj('ab$'), expect: 'ImplicitDeny' },
  {
    name: 'Version 2008-10-17: ${…} is plain text',
    set: { identity: [OLD_VERSION] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('${aws:username}/x'),
    expect: 'Allow',
  },
  {
    name: 'Version 2008-10-17: no substitution',
    set: { identity: [OLD_VERSION] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('alice/x'),
    expect: 'ImplicitDeny',
  },
  {
    name: '${aws:userid} in a resource',
    set: { identity: [USERID_VAR] },
    principal: alice,
    action: 's3:GetObject',
    resource: obj('AIDAALICE/x'),
    expect: 'Allow',
  },
  {
    name: "${aws:username, 'shared'}: the default when absent",
    set: { identity: [DEFAULT_VAR] },
    principal: ROLE_SESSION,
    action: 's3:GetObject',
    resource: obj('shared/x'),
    expect: 'Allow',
  },
  {
    name: 'a substituted value is not a wildcard (user named *)',
    set: { identity: [HOME] },
    principal: user('*'),
    action: 's3:GetObject',
    resource: obj('home/bob/a'),
    expect: 'ImplicitDeny',
  },
  {
    name: 'ListAllMyBuckets (resource *) matches arn:aws:s3:::*',
    set: { identity: [LIST_ALL] },
    principal: alice,
    action: 's3:ListAllMyBuckets',
    resource: '*',
    expect: 'Allow',
  },
  { name: 'nothing attached → implicit deny', set: {}, principal: alice, action: 's3:GetObject', resource: obj('a'), expect: 'ImplicitDeny' },
  // canned policies
  { name: 'readonly: GET', set: { identity: [READONLY] }, principal: alice, action: 's3:GetObject', resource: obj('a', 'any'), expect: 'Allow' },
  {
    name: 'readonly: no listing (as MinIO)',
    set: { identity: [READONLY] },
    principal: alice,
    action: 's3:ListBucket',
    resource: 'arn:aws:s3:::any',
    expect: 'ImplicitDeny',
  },
  { name: 'writeonly: PUT only', set: { identity: [WRITEONLY] }, principal: alice, action: 's3:GetObject', resource: obj('a'), expect: 'ImplicitDeny' },
  {
    name: 'diagnostics: admin:ServerInfo',
    set: { identity: [DIAG] },
    principal: alice,
    action: 'admin:ServerInfo',
    resource: 'arn:aws:s3:::*',
    expect: 'Allow',
  },
  { name: 'diagnostics: no data access', set: { identity: [DIAG] }, principal: alice, action: 's3:GetObject', resource: obj('a'), expect: 'ImplicitDeny' },
  {
    name: 'diagnostics: no user management',
    set: { identity: [DIAG] },
    principal: alice,
    action: 'admin:CreateUser',
    resource: 'arn:aws:s3:::*',
    expect: 'ImplicitDeny',
  },
  {
    name: 'consoleAdmin: admin:CreateUser',
    set: { identity: [ADMIN] },
    principal: alice,
    action: 'admin:CreateUser',
    resource: 'arn:aws:s3:::*',
    expect: 'Allow',
  },
  {
    name: 'readwrite: not the admin API',
    set: { identity: [READWRITE] },
    principal: alice,
    action: 'admin:CreateUser',
    resource: 'arn:aws:s3:::*',
    expect: 'ImplicitDeny',
  },
];

function contextOf(p: RequestPrincipal, extra: Ctx = {}) {
  return conditionContext({ ...principalContextValues(p), ...extra });
}

describe('evaluatePolicies', () => {
  for (const row of ROWS) {
    it(`evaluatePolicies › ${row.name} → ${row.expect}`, () => {
      const d = evaluatePolicies(row.set, { action: row.action, resource: row.resource, principal: row.principal, context: contextOf(row.principal, row.ctx) });
      assert.equal(d.decision, row.expect, d.reason);
      assert.equal(d.allowed, row.expect === 'Allow');
      if (row.expect === 'ImplicitDeny') assert.equal(d.statement, undefined);
      else assert.ok(d.statement, 'the deciding statement is reported');
      if (row.by !== undefined) assert.equal(d.statement?.sid, row.by);
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
    const n = 200_000;
    let allowed = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (evaluatePolicies(set, req).allowed) allowed++;
    const ns = Number(process.hrtime.bigint() - start);
    assert.equal(allowed, n);
    t.diagnostic(`${Math.round((n / ns) * 1e9).toLocaleString('en')} evaluations/s, ${(ns / n / 1000).toFixed(2)} µs each`);
  });
});
