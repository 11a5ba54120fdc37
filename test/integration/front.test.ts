// The cluster tests' front (test/helpers/front.ts) must not be what hangs a request. A gateway
// that answers a PUT before reading its body (an early 503 while PostgreSQL is away) ends its side
// of the connection and reads and drops the rest (send.ts, protectConnection); the client's
// kept-alive connection to the front must stay usable for its next request. Each case has a
// backend and a front of its own.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, it } from 'node:test';
import { type Front, startFront } from '../helpers/front.js';

type Lingering = Socket & { destroySoon: () => void };

/** Strata's close after an early answer (send.ts, lingerOnClose): its side ended, the rest of the body read and dropped. */
function lingering(socket: Lingering): void {
  socket.destroySoon = function linger(this: Lingering): void {
    if (this.writable) this.end();
    setTimeout(() => this.destroy(), 10_000).unref();
  };
}

/** A backend that answers every PUT at once with 503 and `Connection: close`, as a gateway without its database; GET → 200. */
async function withFront(body: (front: Front) => Promise<void>): Promise<void> {
  const early = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    lingering(req.socket as Lingering);
    res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' });
    res.end('no database\n');
    req.resume();
  };
  const backend = http.createServer((req, res) => {
    if (req.method === 'PUT') return early(req, res);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('hello\n');
  });
  // Expect: 100-continue answered with the error and no 100.
  backend.on('checkContinue', early);
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
  const front = await startFront('request');
  front.setBackend(0, { host: '127.0.0.1', port: (backend.address() as AddressInfo).port });
  try {
    await body(front);
  } finally {
    await front.close();
    backend.closeAllConnections();
    await new Promise<void>((resolve) => backend.close(() => resolve()));
  }
}

/** One request through `agent`, bounded: a request that gets no answer in 5 s fails the test. */
function send(front: Front, agent: http.Agent, method: string, body?: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(`${front.url}/b/k`, { method, agent, headers: body ? { 'content-length': String(body.length) } : {} }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method}: no answer within 5 s`)));
    req.on('error', (err) => {
      // The answer may come while the body is still being written; an error after it is not the test's.
      if (!answered) reject(err);
    });
    req.end(body);
  });
}

/** A PUT with `Expect: 100-continue` sent as the AWS SDK sends it: the body only after a 100, none once the answer came. */
function putExpecting(front: Front, agent: http.Agent, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${front.url}/b/k`, { method: 'PUT', agent, headers: { 'content-length': String(body.length), expect: '100-continue' } });
    req.on('continue', () => req.end(body));
    req.on('response', (res) => {
      if (!req.writableEnded) req.end();
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(5000, () => req.destroy(new Error('PUT: no answer within 5 s')));
    req.on('error', reject);
    req.flushHeaders();
  });
}

describe('test front (request mode)', () => {
  it('a PUT answered before its body was read (3 MiB, still being sent): the client gets the answer, and its next request on the connection is answered', async () => {
    await withFront(async (front) => {
      // maxSockets 1: the GET goes out on the PUT's connection once its body is written.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let round = 0; round < 3; round++) {
          assert.equal((await send(front, agent, 'PUT', Buffer.alloc(3 << 20, round))).status, 503);
          const get = await send(front, agent, 'GET');
          assert.equal(get.status, 200, `round ${round}`);
          assert.equal(get.text, 'hello\n');
        }
      } finally {
        agent.destroy();
      }
    });
  });

  // Node's server closes a connection whose request got its answer without a 100 (the body may
  // never come); the front must keep it so (no 100 of its own, no keep-alive over it).
  it('a PUT with Expect: 100-continue answered at once (no 100, so no body sent): the next request is answered, not taken for that body', async () => {
    await withFront(async (front) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        for (let round = 0; round < 3; round++) {
          assert.equal(await putExpecting(front, agent, Buffer.alloc(3 << 20, round)), 503);
          assert.equal((await send(front, agent, 'GET')).status, 200, `round ${round}`);
        }
      } finally {
        agent.destroy();
      }
    });
  });
});
