// PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption —
// https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketEncryption.html (and _Get…, _Delete…).
// The rule is stored under ENCRYPTION_CONFIG_NAME (s3/bucket-encryption.ts) and applied by
// writeEncryption (s3/sse.ts) to every new object that asks for no encryption itself.
import {
  ENCRYPTION_CONFIG_NAME,
  SERVER_DEFAULT_RULE,
  encryptionConfigurationXml,
  encryptionRuleJson,
  parseEncryptionConfiguration,
  storedEncryptionRule,
} from '../bucket-encryption.js';
import type { BucketRequest, S3Response } from '../context.js';
import { S3Error } from '../errors.js';
import { kmsFailure, SSE_NOT_CONFIGURED } from '../sse.js';

/**
 * Validates and stores the rule. Without a key service no rule could ever be applied (SSE-S3 and
 * SSE-KMS both need it), so it is refused as the object requests are: 501 NotImplemented. A named
 * key must exist (KMS.NotFoundException), so a typo is told now rather than at every later upload.
 */
export async function putBucketEncryption(ctx: BucketRequest): Promise<S3Response> {
  const rule = parseEncryptionConfiguration(ctx.bodyText ?? '');
  if (ctx.kms === undefined) throw new S3Error('NotImplemented', SSE_NOT_CONFIGURED);
  if (rule.keyId !== undefined) {
    try {
      await ctx.kms.describeKey(rule.keyId);
    } catch (err) {
      throw kmsFailure(err);
    }
  }
  await ctx.store.putBucketConfig(ctx.bucket, ENCRYPTION_CONFIG_NAME, encryptionRuleJson(rule));
  return { status: 200 };
}

/**
 * The bucket's rule; without one, the server's SSE-S3 rule when --sse-default AES256 is on (AWS
 * answers its SSE-S3 default for every bucket since January 2023), else 404
 * ServerSideEncryptionConfigurationNotFoundError.
 */
export async function getBucketEncryption(ctx: BucketRequest): Promise<S3Response> {
  const rule =
    storedEncryptionRule(await ctx.store.getBucketConfig(ctx.bucket, ENCRYPTION_CONFIG_NAME)) ?? (ctx.config.sseByDefault ? SERVER_DEFAULT_RULE : undefined);
  if (rule === undefined) throw new S3Error('ServerSideEncryptionConfigurationNotFoundError', undefined, { BucketName: ctx.bucket });
  return { status: 200, body: encryptionConfigurationXml(rule, ctx.config.region) };
}

/** 204 whether or not a rule existed; new objects then get the server's default (or none). */
export async function deleteBucketEncryption(ctx: BucketRequest): Promise<S3Response> {
  await ctx.store.putBucketConfig(ctx.bucket, ENCRYPTION_CONFIG_NAME, undefined);
  return { status: 204 };
}
