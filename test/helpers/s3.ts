// Shared aws-sdk-js v3 pieces for integration tests: a client for a test server, the SDK's own
// SigV4 signer for hand-built requests, and a helper that expects a call to fail.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { LookupFunction } from 'node:net';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { type AdminAnswer, type TestUser, adminCall } from './admin.js';
import { ACCESS_KEY, REGION, SECRET_KEY } from './server.js';

/** Every name (bucket.localhost included) resolves to the loopback address, whatever the system resolver says. */
export const loopbackLookup = ((_host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
  if (opts && opts.all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
  else cb(null, '127.0.0.1', 4);
}) as unknown as LookupFunction;

export interface TestClientOptions {
  /** Path-style (default) or virtual-hosted style (needs the server started with --domain). */
  pathStyle?: boolean;
  keepAlive?: boolean;
  /** Another identity's keys (a test user's); default: the root keys. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** An S3Client for a test server: default credentials, us-east-1, no retries (a failure is a failure). */
export function testClient(endpoint: string, opts: TestClientOptions = {}): S3Client {
  return new S3Client({
    endpoint,
    region: REGION,
    forcePathStyle: opts.pathStyle ?? true,
    credentials: opts.credentials ?? { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: opts.keepAlive ?? true, lookup: loopbackLookup }) }),
    maxAttempts: 1,
  });
}

/** The SDK's SigV4 signer in S3 mode (single path encoding), for hand-built requests. */
export const testSigner = new SignatureV4({
  credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  region: REGION,
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false,
});

/** Awaits a call that must fail with an S3 error, and returns that error. */
export async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (e) {
    if (e instanceof S3ServiceException) return e;
    throw e;
  }
  assert.fail('expected the call to fail');
}

/**
 * Clients for the users of a test server: `as(user)` an aws-sdk-js client signed with the user's
 * key, `admin(...)` an admin API call with the root keys, `destroy()` closes every client made.
 * `url` is read at each call (the server is started in `before`).
 */
export function userClients(url: () => string): {
  as: (u: TestUser) => S3Client;
  admin: (method: 'GET' | 'POST' | 'DELETE', path: string, body?: object) => Promise<AdminAnswer>;
  destroy: () => void;
} {
  const made: S3Client[] = [];
  return {
    as: (u) => {
      const c = testClient(url(), { credentials: { accessKeyId: u.accessKey, secretAccessKey: u.secretKey } });
      made.push(c);
      return c;
    },
    admin: (method, path, body) => adminCall(url(), { accessKey: ACCESS_KEY, secretKey: SECRET_KEY }, method, path, body),
    destroy: () => {
      for (const c of made.splice(0)) c.destroy();
    },
  };
}

/**
 * The headers of a request signed with the root keys (SigV4; UNSIGNED-PAYLOAD unless `headers` give
 * x-amz-content-sha256, which like every header given there wins over the defaults), for a request
 * the SDK would not send as it is (it corrects or fills in some headers itself).
 */
export async function signedHeaders(
  server: { host: string; port: number },
  method: string,
  path: string,
  headers: Record<string, string> = {},
  query: Record<string, string> = {},
): Promise<Record<string, string>> {
  const signed = await testSigner.sign({
    method,
    protocol: 'http:',
    hostname: server.host,
    port: server.port,
    path,
    query,
    headers: { host: `${server.host}:${server.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
  });
  return signed.headers as Record<string, string>;
}

/**
 * aws-sdk-js SSE-C parameters for a 32-byte customer key (a Buffer, or a fill byte for a test key):
 * algorithm AES256, the key and its MD5 in base64.
 */
export function sseCustomer(key: Buffer | number): { SSECustomerAlgorithm: string; SSECustomerKey: string; SSECustomerKeyMD5: string } {
  const bytes = typeof key === 'number' ? Buffer.alloc(32, key) : key;
  return { SSECustomerAlgorithm: 'AES256', SSECustomerKey: bytes.toString('base64'), SSECustomerKeyMD5: createHash('md5').update(bytes).digest('base64') };
}
