// The admin API's key service operations (docs/admin-api.md, "Key service"): list, create, describe,
// rotate, enable and disable the key service's master keys, each authorized by its kms: action on
// the key's ARN (kms:ListKeys and kms:CreateKey on `*`, as AWS). Never shows key material.
import { kmsKeyArn } from '../kms/arn.js';
import { type KeyInfo, KmsError, type KeyService } from '../kms/kms.js';
import { type AdminContext, AdminError, type AdminRoute, type Json } from './operations.js';

/** AWS KMS's exception → the admin API's HTTP status (the code is kept as AWS names it). */
const STATUS: Readonly<Record<KmsError['code'], number>> = {
  NotFoundException: 404,
  AlreadyExistsException: 409,
  DisabledException: 409,
  ValidationException: 400,
  InvalidCiphertextException: 400,
  KMSInternalException: 500,
};

const iso = (ms: number) => new Date(ms).toISOString();

function keyJson(k: KeyInfo, region: string): Json {
  return {
    keyId: k.keyId,
    arn: kmsKeyArn(k.keyId, region),
    enabled: k.enabled,
    keyState: k.enabled ? 'Enabled' : 'Disabled',
    created: iso(k.createdAt),
    currentVersion: k.currentVersion,
    rotated: iso(k.rotatedAt),
    default: k.isDefault,
  };
}

/** Runs `fn` with the key service; 501 KMSNotConfigured without one, KmsErrors as admin errors. */
async function withKms(c: AdminContext, fn: (kms: KeyService) => Promise<Json>): Promise<Json> {
  if (c.kms === undefined)
    throw new AdminError('KMSNotConfigured', 501, 'No key service is configured: start the server with --kms-secret-key or --kms-secret-key-file.');
  try {
    return await fn(c.kms);
  } catch (err) {
    if (err instanceof KmsError) throw new AdminError(err.code, STATUS[err.code], err.message);
    throw err;
  }
}

const keyArnOf = (params: readonly string[], region: string) => kmsKeyArn(params[0]!, region);
const one = (c: AdminContext, run: (kms: KeyService) => Promise<KeyInfo>) => withKms(c, async (kms) => ({ key: keyJson(await run(kms), c.region) }));

export const KMS_ROUTES: readonly AdminRoute[] = [
  {
    method: 'GET',
    path: ['kms', 'keys'],
    action: 'kms:ListKeys',
    run: (c) => withKms(c, async (kms) => ({ keys: (await kms.listKeys()).map((k) => keyJson(k, c.region)) })),
  },
  {
    method: 'POST',
    path: ['kms', 'keys'],
    action: 'kms:CreateKey',
    run: (c, r) => {
      if (typeof r.body.keyId !== 'string') throw new AdminError('InvalidArgument', 400, 'Name the new key: {"keyId": "..."}.');
      const keyId = r.body.keyId;
      return one(c, (kms) => kms.createKey(keyId));
    },
  },
  {
    method: 'GET',
    path: ['kms', 'keys', ':key'],
    action: 'kms:DescribeKey',
    resource: keyArnOf,
    run: (c, r) => one(c, (kms) => kms.describeKey(r.params[0]!)),
  },
  {
    method: 'POST',
    path: ['kms', 'keys', ':key', 'rotate'],
    action: 'kms:RotateKeyOnDemand',
    resource: keyArnOf,
    run: (c, r) => one(c, (kms) => kms.rotateKey(r.params[0]!)),
  },
  {
    method: 'POST',
    path: ['kms', 'keys', ':key', 'enable'],
    action: 'kms:EnableKey',
    resource: keyArnOf,
    run: (c, r) => one(c, (kms) => kms.setKeyEnabled(r.params[0]!, true)),
  },
  {
    method: 'POST',
    path: ['kms', 'keys', ':key', 'disable'],
    action: 'kms:DisableKey',
    resource: keyArnOf,
    run: (c, r) => one(c, (kms) => kms.setKeyEnabled(r.params[0]!, false)),
  },
];
