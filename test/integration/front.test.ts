// The cluster tests' front (test/helpers/front.ts) must not be what hangs a request: a gateway
// that answers a PUT before reading its body (an early 503 while PostgreSQL is away) and closes
// its connection must leave the client's kept-alive connection to the front usable for its next
// request. The backend here does what Strata does then (send.ts, protectConnection): answer,
// `Connection: close`, and read and drop the rest of the body.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Front, startFront } from '../helpers/front.js';

describe('test front (request mode)', () => {
  let backend: http.Server;
  let front: Front;

  before(async () => {
    backend = http.createServer((req, res) => {
      if (req.method === 'PUT') {
        // Answered before the body is read: 503 and close, like a gateway without its database;
        // closed as Strata closes (send.ts, lingerOnClose): its side of the connection ended after
        // the answer, the rest of the body still read and dropped.
        const socket = req.socket as typeof req.socket & { destroySoon: () => void };
        socket.destroySoon = function lingering(this: typeof socket): void {
          if (this.writable) this.end();
          setTimeout(() => this.destroy(), 10_000).unref();
        };
        res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' });
        res.end('no database\n');
        req.resume();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello\n');
    });
    await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', () => resolve()));
    front = await startFront('request');
    front.setBackend(0, { host: '127.0.0.1', port: (backend.address() as AddressInfo).port });
  });

  after(async () => {
    await front?.close();
    backend?.closeAllConnections();
    await new Promise<void>((resolve) => backend?.close(() => resolve()));
  });

  /** One request through `agent`, bounded: a request that gets no answer in 5 s fails the test. */
  function send(agent: http.Agent, method: string, body?: Buffer): Promise<{ status: number; text: string; socket: unknown }> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = http.request(`${front.url}/b/k`, { method, agent, headers: body ? { 'content-length': String(body.length) } : {} }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString(), socket: req.socket }));
      });
      req.setTimeout(5000, () => req.destroy(new Error(`${method}: no answer within 5 s`)));
      req.on('error', (err) => {
        // The early answer may come while the body is still being written; an error after it is not the test's.
        if (answered) return;
        reject(err);
      });
      req.end(body);
    });
  }

  it('a PUT answered before its body was read leaves the client connection usable: the next request on it is answered', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let round = 0; round < 3; round++) {
        const put = await send(agent, 'PUT', Buffer.alloc(3 << 20, round));
        assert.equal(put.status, 503);
        // maxSockets 1: the GET goes out on the PUT's connection once its body is written.
        const get = await send(agent, 'GET');
        assert.equal(get.status, 200, `round ${round}`);
        assert.equal(get.text, 'hello\n');
      }
    } finally {
      agent.destroy();
    }
  });
});
