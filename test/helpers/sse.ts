// Shared by the server-side encryption tests: SSE-C key triples as aws-sdk-js takes them, bytes with
// a plaintext marker and the data-directory search for it, a raw header on one SDK command, and an AWS
// CLI run with a file big enough to go multipart.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { awsCli, awsCliEnv, newBucketName } from './clients.js';
import type { RunningServer } from './server.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** Plaintext bytes per package of a sealed piece (store/sealed.ts). */
export const PACKAGE = 64 * KiB;
/** Parts of 5 MiB + 7 bytes: part and package boundaries never coincide. */
export const PART = 5 * MiB + 7;

/** An SSE-C key (32 bytes of `fill`) as aws-sdk-js's SSECustomer* fields, with its MD5. */
export function customerKey(fill: number) {
  const key = Buffer.alloc(32, fill);
  return {
    SSECustomerAlgorithm: 'AES256',
    SSECustomerKey: key.toString('base64'),
    SSECustomerKeyMD5: createHash('md5').update(key).digest('base64'),
  };
}

/** The same key as a copy source's (CopySourceSSECustomer* fields). */
export function copySourceKey(k: ReturnType<typeof customerKey>) {
  return {
    CopySourceSSECustomerAlgorithm: k.SSECustomerAlgorithm,
    CopySourceSSECustomerKey: k.SSECustomerKey,
    CopySourceSSECustomerKeyMD5: k.SSECustomerKeyMD5,
  };
}

/** Random bytes with `marker` written every 256 KiB: a plaintext pattern to look for on disk. */
export function patterned(size: number, marker: string): Buffer {
  const b = randomBytes(size);
  const m = Buffer.from(marker);
  for (let at = 0; at + m.length <= size; at += 256 * 1024) m.copy(b, at);
  return b;
}

export const md5hex = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** Every file under `dir` that holds `needle` (bounded: the data directory of one test server). */
export async function filesHolding(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries.slice(0, 10_000)) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

/** Adds a raw header to one command's request (a header the SDK would not send for that operation). */
export function withHeader<T extends { middlewareStack: { add: (...a: any[]) => void } }>(command: T, name: string, value: string): T {
  command.middlewareStack.add(
    (next: (a: any) => Promise<unknown>) => async (args: any) => {
      args.request.headers[name] = value;
      return next(args);
    },
    { step: 'build', name: `add-${name}` },
  );
  return command;
}

/**
 * An AWS CLI run against `server` with a fresh bucket and `big.bin` (12 MiB + 5 bytes with `marker`:
 * the CLI uploads it in parts) in its working directory; after `body`, the data directory must hold
 * no plaintext.
 */
export async function withCliAndBigFile(
  server: RunningServer,
  marker: string,
  body: (cli: ReturnType<typeof awsCli>, o: { dir: string; bucket: string; data: Buffer }) => Promise<void>,
): Promise<void> {
  const { env, dir, cleanup } = await awsCliEnv();
  try {
    const cli = awsCli(() => ({ url: server.url, env, cwd: dir, logs: server.logs, timeoutMs: 180_000 }));
    const bucket = newBucketName('sse-cli');
    await cli.aws(['s3', 'mb', `s3://${bucket}`]);
    const data = patterned(12 * MiB + 5, marker);
    await writeFile(join(dir, 'big.bin'), data);
    await body(cli, { dir, bucket, data });
    assert.deepEqual(await filesHolding(server.dataDir, marker), []);
  } finally {
    await cleanup();
  }
}
