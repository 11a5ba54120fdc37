// AWS's documented policy examples (IAM policy reference, S3 bucket policy examples) as compiled documents,
// with the principals and the row shape of the evaluation table (policy-evaluate.test.ts,
// policy-principals.test.ts). Test data: nothing in Strata's request path imports it.
import { cannedPolicy } from './canned-policies.js';
import type { CompiledPolicy, RequestPrincipal } from './policy.js';
import { STRATA_ACCOUNT_ID, compilePolicy, principalArn, principalContextValues } from './policy.js';
import type { PolicyDecision, PolicySet } from './policy-evaluate.js';
import { evaluatePolicies } from './policy-evaluate.js';
import { conditionContext } from './policy-match.js';

export const user = (name: string): RequestPrincipal => ({
  kind: 'user',
  account: STRATA_ACCOUNT_ID,
  arn: principalArn('user', name),
  userId: `AIDA${name.toUpperCase()}`,
  name,
});
export const ROOT: RequestPrincipal = { kind: 'root', account: STRATA_ACCOUNT_ID, arn: principalArn('root', ''), userId: 'root' };
export const ANON: RequestPrincipal = { kind: 'anonymous', account: '', arn: '', userId: 'anonymous' };
export const ROLE_SESSION: RequestPrincipal = {
  kind: 'assumed-role',
  account: STRATA_ACCOUNT_ID,
  arn: `arn:aws:sts::${STRATA_ACCOUNT_ID}:assumed-role/ci/job-1`,
  roleArn: principalArn('role', 'ci'),
  userId: 'AROACI:job-1',
  name: 'job-1',
};

export const id = (doc: object, name = 'p'): CompiledPolicy => compilePolicy(doc, { kind: 'identity', name });
export const bucketPolicy = (doc: object, bucket = 'b'): CompiledPolicy => compilePolicy(doc, { kind: 'resource', bucket });
export const V = '2012-10-17';
export const obj = (key: string, bucket = 'b') => `arn:aws:s3:::${bucket}/${key}`;
export const BUCKET = 'arn:aws:s3:::b';

// --- documents, from the AWS examples they are named after ---
/** IAM reference, "home directory" example: list and use only home/<username>/. */
export const HOME = id({
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
export const LIST_ROOT = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringEquals: { 's3:prefix': ['', 'home/'], 's3:delimiter': ['/'] } } },
});
/** S3 bucket policy example: deny every request not from these ranges. */
export const IP_DENY = bucketPolicy({
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
export const TLS_ONLY = bucketPolicy({
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
export const PUBLIC_READ = bucketPolicy({
  Version: V,
  Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: ['arn:aws:s3:::b/*'] }],
});
export const READWRITE = cannedPolicy('readwrite')!;
export const READONLY = cannedPolicy('readonly')!;
export const NOT_ACTION = id({ Version: V, Statement: { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' } });
export const NOT_RESOURCE_DENY = id({ Version: V, Statement: { Effect: 'Deny', Action: 's3:*', NotResource: ['arn:aws:s3:::safe', 'arn:aws:s3:::safe/*'] } });
export const DENY_DELETE = id({ Version: V, Statement: { Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteObject*', Resource: '*' } });
export const TAG_KEYS_ALL = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:PutObjectTagging',
    Resource: '*',
    Condition: { 'ForAllValues:StringEquals': { 's3:RequestObjectTagKeys': ['Department', 'Project'] } },
  },
});
export const TAG_KEYS_ANY = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:PutObjectTagging',
    Resource: '*',
    Condition: { 'ForAnyValue:StringEquals': { 's3:RequestObjectTagKeys': ['Project'] } },
  },
});
export const SSE_IF_EXISTS = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: { StringEqualsIfExists: { 's3:x-amz-server-side-encryption': 'AES256' } } },
});
/** S3 example: deny uploads that do not ask for AES256 (a missing header is denied too: negated operator). */
export const SSE_REQUIRED = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:PutObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'AES256' } },
  },
});
export const SSE_NULL = bucketPolicy({
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
export const DATE_WINDOW = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: '*',
    Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-04-01T00:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2020-06-30T23:59:59Z' } },
  },
});
export const MAX_KEYS = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { NumericLessThanEquals: { 's3:max-keys': '10' } } },
});
export const ONLY_BOB = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: [principalArn('user', 'bob')] }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' },
});
export const ACCOUNT = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: STRATA_ACCOUNT_ID }, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
});
export const ROLE = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Allow', Principal: { AWS: principalArn('role', 'ci') }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' },
});
export const NOT_PRINCIPAL = bucketPolicy({
  Version: V,
  Statement: { Effect: 'Deny', NotPrincipal: { AWS: principalArn('user', 'bob') }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/secret/*' },
});
export const REFERER = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringLike: { 'aws:Referer': ['http://www.example.com/*'] } },
  },
});
export const NO_REFERER_FOREIGN = bucketPolicy({
  Version: V,
  Statement: {
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::b/*',
    Condition: { StringNotLike: { 'aws:Referer': ['http://www.example.com/*'] } },
  },
});
export const DEV_ARN = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/dev-*' } } },
});
export const WILD = id({ Version: V, Statement: { Effect: 'Allow', Action: ['S3:get*', 's3:?utObject'], Resource: 'arn:aws:s3:::b/docs/*.txt' } });
export const LITERAL_STAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${*}${?}${$}' } });
export const OLD_VERSION = id({ Version: '2008-10-17', Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/${aws:username}/*' } });
export const LIST_ALL = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: 'arn:aws:s3:::*' } });
export const ADMIN = cannedPolicy('consoleAdmin')!;
export const DIAG = cannedPolicy('diagnostics')!;
export const WRITEONLY = cannedPolicy('writeonly')!;
export const USERID_VAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/${aws:userid}/*' } });
export const DEFAULT_VAR = id({ Version: V, Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: "arn:aws:s3:::b/${aws:username, 'shared'}/*" } });

/** A home folder in a bucket whose name has regex syntax in it (a substituted `*` takes the escaped path). */
export const HYPHEN_HOME = id({
  Version: V,
  Statement: { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::my-bucket.x/home/${aws:username}/*' },
});

export const TAG_KEYS_ANY_IF_EXISTS = id({
  Version: V,
  Statement: {
    Effect: 'Allow',
    Action: 's3:PutObject',
    Resource: '*',
    Condition: { 'ForAnyValue:StringEqualsIfExists': { 's3:RequestObjectTagKeys': ['Project'] } },
  },
});

export type Ctx = Record<string, string | number | boolean | string[] | undefined>;
export interface Row {
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

export const alice = user('alice');
export const bob = user('bob');
export const TLS_IP = { 'aws:SourceIp': '192.0.2.7', 'aws:SecureTransport': true };

/** The condition context of a row: the principal's keys plus the row's. */
export function contextOf(p: RequestPrincipal, extra: Ctx = {}) {
  return conditionContext({ ...principalContextValues(p), ...extra });
}

/** Evaluates one row of the table. */
export function decide(row: Row): PolicyDecision {
  return evaluatePolicies(row.set, { action: row.action, resource: row.resource, principal: row.principal, context: contextOf(row.principal, row.ctx) });
}
