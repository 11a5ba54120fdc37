// The console's static files (static.ts) over a real listener: hashed assets cached for a year,
// index.html never, the SPA fallback, paths that leave the directory, other methods, the page shown
// when the console is not built, and the CSP on every answer.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONTENT_SECURITY_POLICY, serveStatic } from './static.js';

describe('serveStatic', () => {
  let root: string;
  let server: http.Server;
  let base: string;
  let dir: string;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'console-static-'));
    dir = join(root, 'console');
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'assets', 'app-3f9a.js'), 'console.log(1)');
    await writeFile(join(dir, 'favicon.svg'), '<svg/>');
    await writeFile(join(root, 'secret.txt'), 'outside');
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const which = url.searchParams.get('dir') === 'empty' ? join(root, 'nothing') : dir;
      serveStatic(req, res, (req.url ?? '/').split('?')[0]!, which).catch(() => res.destroy());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.close();
    await rm(root, { recursive: true, force: true });
  });

  const get = async (path: string, method = 'GET') => {
    const r = await fetch(`${base}${path}`, { method });
    return { status: r.status, headers: r.headers, text: await r.text() };
  };

  it('serves hashed assets for a year, other files no-cache, index.html no-store, each with its type and the CSP', async () => {
    const js = await get('/assets/app-3f9a.js');
    assert.equal(js.text, 'console.log(1)');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
    const svg = await get('/favicon.svg');
    assert.equal(svg.headers.get('cache-control'), 'no-cache');
    assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
    for (const path of ['/', '/index.html', '/buckets/b/objects', '/assets/missing.js']) {
      const page = await get(path);
      assert.equal(page.status, 200, path);
      assert.equal(page.text, '<!doctype html><title>app</title>', path);
      assert.equal(page.headers.get('cache-control'), 'no-store', path);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    }
    const head = await get('/assets/app-3f9a.js', 'HEAD');
    assert.equal(head.headers.get('content-length'), '14');
    assert.equal(head.text, '');
  });

  it('never serves a file outside its directory; other methods are 405', async () => {
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00']) {
      const r = await get(path);
      assert.notEqual(r.text, 'outside', path);
    }
    const post = await get('/index.html', 'POST');
    assert.equal(post.status, 405);
  });

  it('without a build, says so (200, no-store) for any page', async () => {
    const r = await get('/?dir=empty');
    assert.equal(r.status, 200);
    assert.match(r.text, /not built/);
    assert.match(r.text, /npm run build:console/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
  });
});
