// Shared by the server-side encryption tests: SSE-C key triples as aws-sdk-js takes them, bytes with
// a plaintext marker and the data-directory search for it, and a raw header on one SDK command.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

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
