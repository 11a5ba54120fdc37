// The whole body of a small request (the admin API's JSON, STS's forms), read into memory up to a
// bound: over it, the caller's error (its own wire format) is thrown before more is buffered.
import type { IncomingMessage } from 'node:http';

export async function readSmallBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
