#!/usr/bin/env node
// The floor servers of bench/floor.ts: what answering costs in this runtime before any S3 work.
//   node dist/bench/floor-server.js net|http PORT DIR
// `net`: HTTP/1.1 on node:net with no parser beyond finding the end of each request head: answers
//   every request with the 4 KiB response (keep-alive, GET only: bodies are not read).
// `http`: node:http, nothing else:
//   GET /small           the 4 KiB response (the headers of a Strata GET, one buffer);
//   GET /large?hash=H    DIR/large streamed in 1 MiB reads, each read hashed first when H=sha256;
//   PUT /put?hash=H      the body written to DIR/put-<n> chunk by chunk (one awaited write per
//                        received chunk), fdatasync'd and closed, then 200; H: none, md5 (the ETag's
//                        hash), md5+sha256 (and the block checksums' hash).
// Prints its port on stdout once listening. 127.0.0.1 only.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';

export const SMALL_BODY = Buffer.alloc(4096, 7);

/** The headers Strata sends with a 4 KiB GET (the values' lengths alike). */
export function smallHeaders(): Record<string, string> {
  return {
    'x-amz-request-id': '1A2B3C4D00000001',
    'x-amz-id-2': 'a'.repeat(32),
    server: 'Strata',
    date: new Date().toUTCString(),
    'accept-ranges': 'bytes',
    'last-modified': new Date().toUTCString(),
    etag: `"${'0'.repeat(32)}"`,
    'content-type': 'application/octet-stream',
    'content-length': String(SMALL_BODY.length),
  };
}

function netServer(port: number): void {
  const head = Buffer.from(
    `HTTP/1.1 200 OK\r\n${Object.entries(smallHeaders())
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}Connection: keep-alive\r\n\r\n`,
    'latin1',
  );
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => socket.destroy());
    let pending = '';
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end = pending.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.cork();
      while (end >= 0) {
        pending = pending.slice(end + 4);
        socket.write(head);
        socket.write(SMALL_BODY);
        end = pending.indexOf('\r\n\r\n');
      }
      socket.uncork();
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

let putSeq = 0;

async function put(req: http.IncomingMessage, res: http.ServerResponse, dir: string, hash: string): Promise<void> {
  const path = join(dir, `put-${putSeq++}`);
  const fh = await open(path, 'w');
  const md5 = hash === 'none' ? undefined : createHash('md5');
  const sha = hash === 'md5+sha256' ? createHash('sha256') : undefined;
  try {
    for await (const chunk of req) {
      md5?.update(chunk as Buffer);
      sha?.update(chunk as Buffer);
      await fh.write(chunk as Buffer);
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
  sha?.digest();
  res.writeHead(200, { etag: `"${md5?.digest('hex') ?? ''}"`, 'content-length': '0' });
  res.end();
  await unlink(path);
}

function large(res: http.ServerResponse, dir: string, hash: string): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  const stream = createReadStream(join(dir, 'large'), { highWaterMark: 1024 * 1024 });
  stream.on('data', (chunk) => {
    if (hash === 'sha256')
      createHash('sha256')
        .update(chunk as Buffer)
        .digest();
    if (!res.write(chunk)) {
      stream.pause();
      res.once('drain', () => stream.resume());
    }
  });
  stream.on('end', () => res.end());
  stream.on('error', () => res.destroy());
}

function httpServer(port: number, dir: string): void {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const hash = url.searchParams.get('hash') ?? 'none';
    if (req.method === 'PUT') {
      put(req, res, dir, hash).catch(() => res.destroy());
    } else if (url.pathname === '/large') {
      large(res, dir, hash);
    } else {
      res.writeHead(200, smallHeaders());
      res.end(SMALL_BODY);
    }
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write(`${(server.address() as net.AddressInfo).port}\n`));
}

const [mode, port, dir] = process.argv.slice(2);
if (mode === 'net') netServer(Number(port));
else if (mode === 'http' && dir !== undefined) httpServer(Number(port), dir);
else {
  process.stderr.write('usage: floor-server.js net|http PORT DIR\n');
  process.exit(2);
}
