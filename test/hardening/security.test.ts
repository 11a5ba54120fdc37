// Security against a real Strata process started with operator credentials (a distinctive secret)
// and trace logging: tampered signatures of every part (path, query, headers, body hash, presigned
// parameters), expired and future-dated requests, replay of a presigned PUT elsewhere — all refused
// with the right code and nothing changed; secrets never in logs or error bodies; the startup
// warning about the default pair; empty or short secrets refused; error answers leak no stack
// traces or file paths, not even for a real internal error.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { MAIN_JS, REPO_ROOT, startServer, type RunningServer } from '../helpers/server.js';
import { assertS3Error, buildRequest, leakIn, presignTarget, rawExchange, sha256hex, signRequest, type RawResponse } from './raw-http.js';

const ACCESS = 'hardening-operator';
const SECRET = 'Sup3r-S3cret-Never-Logged-7f3a9c';
const BUCKET = 'security';

const signerFor = (accessKeyId: string, secretAccessKey: string, region = 'us-east-1') =>
  new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service: 's3', sha256: Sha256, uriEscapePath: false });
const signer = signerFor(ACCESS, SECRET);

/** Replaces (or with value undefined removes) a query parameter of a raw target, keeping the rest verbatim. */
function withParam(target: string, name: string, value: string | undefined): string {
  const [path, query = ''] = target.split('?') as [string, string?];
  const pairs = query.split('&').filter(Boolean);
  const i = pairs.findIndex((p) => p.split('=')[0] === name);
  if (value === undefined) pairs.splice(i, 1);
  else if (i < 0) pairs.push(`${name}=${value}`);
  else pairs[i] = `${name}=${value}`;
  return `${path}?${pairs.join('&')}`;
}
const paramOf = (target: string, name: string) => new URLSearchParams(target.split('?')[1]).get(name) ?? '';

/** Runs strata with the arguments and environment; resolves when it exits or has logged "listening". */
function runStrata(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(STRATA|RUSTFS)_/.test(k)));
    const child = spawn(process.execPath, [MAIN_JS, '--address', '127.0.0.1:0', '--console-address', 'off', ...args], {
      cwd: REPO_ROOT,
      env: { ...clean, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (c: Buffer) => {
      out += c.toString();
      if (out.includes('"msg":"listening"')) child.kill('SIGTERM');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('security', { timeout: 90_000 }, () => {
  let server: RunningServer;
  const errorBodies: string[] = [];
  /** Every signature the tests put on the wire: none may show up in the logs. */
  const signatures = new Set<string>();

  async function exchange(method: string, target: string, headers: Array<[string, string]>, body?: Buffer | string): Promise<RawResponse> {
    for (const [n, v] of headers) if (n === 'authorization') signatures.add(/Signature=(\w+)/.exec(v)?.[1] ?? '');
    const sig = paramOf(target, 'X-Amz-Signature');
    if (sig) signatures.add(sig);
    const res = await rawExchange(server.port, buildRequest({ method, target, headers, body }), { head: method === 'HEAD' });
    if (res.status >= 300 && method !== 'HEAD') errorBodies.push(res.body.toString('utf8'));
    return res;
  }

  async function signed(
    method: string,
    path: string,
    o: {
      query?: Record<string, string>;
      headers?: Record<string, string>;
      body?: Buffer | string;
      signingDate?: Date;
      payloadHash?: string;
      with?: SignatureV4;
    } = {},
  ) {
    return signRequest({
      method,
      port: server.port,
      path,
      query: o.query,
      headers: o.headers,
      body: o.body,
      signingDate: o.signingDate,
      payloadHash: o.payloadHash,
      signer: o.with ?? signer,
    });
  }

  async function send(method: string, path: string, o: Parameters<typeof signed>[2] = {}): Promise<RawResponse> {
    const s = await signed(method, path, o);
    return exchange(method, s.target, s.headers, o.body);
  }

  function expectError(res: RawResponse, status: number, code: string, what: string) {
    const err = assertS3Error(res, what);
    assert.equal(res.status, status, `${what}: ${res.body}`);
    assert.equal(err.code, code, `${what}: ${res.body}`);
    return err;
  }

  async function content(key: string): Promise<string | undefined> {
    const res = await send('GET', `/${BUCKET}/${key}`);
    return res.status === 200 ? res.body.toString() : undefined;
  }

  before(async () => {
    server = await startServer({ env: { STRATA_ACCESS_KEY: ACCESS, STRATA_SECRET_KEY: SECRET, STRATA_LOG_LEVEL: 'trace' } });
    assert.equal((await send('PUT', `/${BUCKET}`)).status, 200);
    assert.equal((await send('PUT', `/${BUCKET}/k1`, { body: 'one' })).status, 200);
    assert.equal((await send('PUT', `/${BUCKET}/secret-source`, { body: 'confidential' })).status, 200);
  });

  after(async () => {
    await server?.stop();
  });

  it('header SigV4 › tampered path, query, method, signed header, missing signed header → 403 SignatureDoesNotMatch; nothing changed', async () => {
    const put = await signed('PUT', `/${BUCKET}/k1`, { body: 'two', headers: { 'x-amz-meta-a': '1', 'content-type': 'text/plain' } });
    const h = (edit: (h: Array<[string, string]>) => Array<[string, string]>) => edit(put.headers.map(([n, v]) => [n, v]));
    const cases: Array<[string, string, string, Array<[string, string]>]> = [
      ['path', 'PUT', `/${BUCKET}/k2`, put.headers],
      ['path (bucket)', 'PUT', `/other-bucket/k1`, put.headers],
      ['query added', 'PUT', `/${BUCKET}/k1?x-id=PutObject`, put.headers],
      ['method', 'POST', put.target, put.headers],
      ['signed header value', 'PUT', put.target, h((x) => x.map(([n, v]) => [n, n === 'x-amz-meta-a' ? '2' : v]))],
      ['signed content-type', 'PUT', put.target, h((x) => x.map(([n, v]) => [n, n === 'content-type' ? 'application/json' : v]))],
      ['signed header missing', 'PUT', put.target, h((x) => x.filter(([n]) => n !== 'content-type'))],
      [
        'x-amz-date',
        'PUT',
        put.target,
        h((x) => x.map(([n, v]) => [n, n === 'x-amz-date' ? v.replace(/\d\dZ$/, (s) => `${(Number(s.slice(0, 2)) + 1) % 60}`.padStart(2, '0') + 'Z') : v])),
      ],
      [
        'signature',
        'PUT',
        put.target,
        h((x) => x.map(([n, v]) => [n, n === 'authorization' ? v.replace(/Signature=(\w)/, (_, c: string) => `Signature=${c === '0' ? '1' : '0'}`) : v])),
      ],
    ];
    for (const [what, method, target, headers] of cases) {
      const err = expectError(await exchange(method, target, headers, 'two'), 403, 'SignatureDoesNotMatch', what);
      assert.equal(err.fields['StringToSign'], undefined, 'the answer must not help forging');
    }
    const list = await signed('GET', `/${BUCKET}`, { query: { 'list-type': '2', prefix: 'k' } });
    for (const [what, target] of [
      ['query value', list.target.replace('prefix=k', 'prefix=s')],
      ['query parameter added', `${list.target}&max-keys=1`],
      ['query parameter removed', list.target.replace('&prefix=k', '').replace('prefix=k&', '')],
    ] as const) {
      expectError(await exchange('GET', target, list.headers), 403, 'SignatureDoesNotMatch', what);
    }
    assert.equal(await content('k1'), 'one');
    assert.equal(await content('k2'), undefined);
  });

  it('header SigV4 › an unsigned x-amz-* header added to a signed request (copy-source, metadata, tagging) → 403 AccessDenied; nothing copied', async () => {
    // Captured: a signed PUT of an empty body to k-victim. Replayed with an added x-amz-copy-source
    // it would become a CopyObject of any object the signer can read.
    const put = await signed('PUT', `/${BUCKET}/k-victim`, { body: '' });
    for (const extra of [
      ['x-amz-copy-source', `/${BUCKET}/secret-source`],
      ['x-amz-meta-injected', 'x'],
      ['x-amz-tagging', 'a=b'],
      ['x-amz-storage-class', 'GLACIER'],
    ] as const) {
      const err = expectError(await exchange('PUT', put.target, [...put.headers, [extra[0], extra[1]]], ''), 403, 'AccessDenied', `added ${extra[0]}`);
      assert.match(err.message, /not signed/);
      assert.equal(err.fields['HeadersNotSigned'], extra[0]);
    }
    assert.equal(await content('k-victim'), undefined);
    // The same request as signed goes through.
    assert.equal((await exchange('PUT', put.target, put.headers, '')).status, 200);
    assert.equal(await content('k-victim'), '');
  });

  it('header SigV4 › body not matching the signed x-amz-content-sha256 → 400 XAmzContentSHA256Mismatch; nothing stored, no temp file', async () => {
    const s = await signed('PUT', `/${BUCKET}/hashed`, { body: 'original' });
    expectError(await exchange('PUT', s.target, s.headers, 'tampered'), 400, 'XAmzContentSHA256Mismatch', 'same length, other bytes');
    // A claim that was changed after signing is a signature mismatch.
    const claimed = s.headers.map(([n, v]) => [n, n === 'x-amz-content-sha256' ? sha256hex('tampered') : v] as [string, string]);
    expectError(await exchange('PUT', s.target, claimed, 'tampered'), 403, 'SignatureDoesNotMatch', 'claim changed');
    assert.equal(await content('hashed'), undefined);
    assert.deepEqual(await readdir(join(server.dataDir, 'tmp')), []);
  });

  it('header SigV4 › wrong secret, unknown key, wrong region, stale or future date → the right code', async () => {
    expectError(await send('GET', `/${BUCKET}/k1`, { with: signerFor(ACCESS, 'not-the-secret-123') }), 403, 'SignatureDoesNotMatch', 'wrong secret');
    expectError(await send('GET', `/${BUCKET}/k1`, { with: signerFor('nobody-key', SECRET) }), 403, 'InvalidAccessKeyId', 'unknown key');
    const region = expectError(
      await send('GET', `/${BUCKET}/k1`, { with: signerFor(ACCESS, SECRET, 'eu-west-3') }),
      400,
      'AuthorizationHeaderMalformed',
      'wrong region',
    );
    assert.equal(region.fields['Region'], 'us-east-1');
    for (const minutes of [-16, 16, -60 * 24 * 8]) {
      const signingDate = new Date(Date.now() + minutes * 60_000);
      expectError(await send('GET', `/${BUCKET}/k1`, { signingDate }), 403, 'RequestTimeTooSkewed', `${minutes} min`);
    }
    // Within the 15-minute window: accepted.
    assert.equal((await send('GET', `/${BUCKET}/k1`, { signingDate: new Date(Date.now() - 10 * 60_000) })).status, 200);
  });

  it('presigned › tampered, missing or repeated X-Amz-* parameters and added parameters → refused with the right code', async () => {
    const url = await presignTarget({ method: 'GET', port: server.port, path: `/${BUCKET}/k1`, expiresIn: 300, signer });
    assert.equal((await exchange('GET', url, [['host', `127.0.0.1:${server.port}`]])).status, 200, 'the untampered URL works');
    const host: Array<[string, string]> = [['host', `127.0.0.1:${server.port}`]];
    const sig = paramOf(url, 'X-Amz-Signature');
    const date = paramOf(url, 'X-Amz-Date');
    const cases: Array<[string, string, number, string]> = [
      ['Expires longer', withParam(url, 'X-Amz-Expires', '3000'), 403, 'SignatureDoesNotMatch'],
      ['Expires over a week', withParam(url, 'X-Amz-Expires', '604801'), 403, 'AccessDenied'],
      ['Expires negative', withParam(url, 'X-Amz-Expires', '-1'), 403, 'AccessDenied'],
      [
        'Date moved',
        withParam(url, 'X-Amz-Date', date.replace(/\d\dZ$/, '00Z') === date ? date.replace(/\d\dZ$/, '01Z') : date.replace(/\d\dZ$/, '00Z')),
        403,
        'SignatureDoesNotMatch',
      ],
      [
        'Credential of another key',
        withParam(url, 'X-Amz-Credential', encodeURIComponent(paramOf(url, 'X-Amz-Credential').replace(ACCESS, 'nobody-key'))),
        403,
        'InvalidAccessKeyId',
      ],
      ['SignedHeaders widened', withParam(url, 'X-Amz-SignedHeaders', 'host%3Brange'), 403, 'SignatureDoesNotMatch'],
      ['SignedHeaders without host', withParam(url, 'X-Amz-SignedHeaders', 'range'), 400, 'AuthorizationQueryParametersError'],
      ['Signature flipped', withParam(url, 'X-Amz-Signature', (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1)), 403, 'SignatureDoesNotMatch'],
      ['Signature removed', withParam(url, 'X-Amz-Signature', undefined), 400, 'AuthorizationQueryParametersError'],
      ['Signature repeated', `${url}&X-Amz-Signature=${sig}`, 400, 'AuthorizationQueryParametersError'],
      ['Algorithm', withParam(url, 'X-Amz-Algorithm', 'AWS4-HMAC-SHA1'), 400, 'AuthorizationQueryParametersError'],
      ['parameter added', `${url}&response-content-type=text%2Fhtml`, 403, 'SignatureDoesNotMatch'],
      ['path', url.replace(`/${BUCKET}/k1`, `/${BUCKET}/secret-source`), 403, 'SignatureDoesNotMatch'],
    ];
    for (const [what, target, status, code] of cases) expectError(await exchange('GET', target, host), status, code, what);
    // Headers the signer did not approve.
    expectError(await exchange('GET', url, [...host, ['x-amz-checksum-mode', 'ENABLED']]), 403, 'AccessDenied', 'unsigned x-amz header');
  });

  it('presigned › expired → 403 AccessDenied "Request has expired"; dated over 15 min ahead → 403 "Request is not valid yet"', async () => {
    const expired = await presignTarget({
      method: 'GET',
      port: server.port,
      path: `/${BUCKET}/k1`,
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
      signer,
    });
    const host: Array<[string, string]> = [['host', `127.0.0.1:${server.port}`]];
    assert.match(expectError(await exchange('GET', expired, host), 403, 'AccessDenied', 'expired').message, /expired/);
    const future = await presignTarget({
      method: 'GET',
      port: server.port,
      path: `/${BUCKET}/k1`,
      expiresIn: 3600,
      signingDate: new Date(Date.now() + 20 * 60_000),
      signer,
    });
    assert.match(expectError(await exchange('GET', future, host), 403, 'AccessDenied', 'future').message, /not valid yet/);
    const nearFuture = await presignTarget({
      method: 'GET',
      port: server.port,
      path: `/${BUCKET}/k1`,
      expiresIn: 60,
      signingDate: new Date(Date.now() + 5 * 60_000),
      signer,
    });
    assert.equal((await exchange('GET', nearFuture, host)).status, 200, 'clock skew within 15 minutes is tolerated');
  });

  it('presigned PUT › replayed to another key, bucket or method, or with a copy-source → refused; only the signed key is written', async () => {
    const url = await presignTarget({ method: 'PUT', port: server.port, path: `/${BUCKET}/upload-here`, expiresIn: 300, signer });
    const host: Array<[string, string]> = [['host', `127.0.0.1:${server.port}`]];
    const replays: Array<[string, string, string, Array<[string, string]>, number, string]> = [
      ['other key', 'PUT', url.replace('/upload-here', '/elsewhere'), host, 403, 'SignatureDoesNotMatch'],
      ['other key (encoded)', 'PUT', url.replace('/upload-here', '/upload%2Dhere2'), host, 403, 'SignatureDoesNotMatch'],
      ['other bucket', 'PUT', url.replace(`/${BUCKET}/`, '/other-bucket/'), host, 403, 'SignatureDoesNotMatch'],
      ['as DELETE', 'DELETE', url, host, 403, 'SignatureDoesNotMatch'],
      ['as POST ?uploads', 'POST', `${url}&uploads=`, host, 403, 'SignatureDoesNotMatch'],
      ['with copy-source', 'PUT', url, [...host, ['x-amz-copy-source', `/${BUCKET}/secret-source`]], 403, 'AccessDenied'],
      ['with metadata', 'PUT', url, [...host, ['x-amz-meta-evil', '1']], 403, 'AccessDenied'],
      ['other host', 'PUT', url, [['host', `localhost:${server.port}`]], 403, 'SignatureDoesNotMatch'],
    ];
    for (const [what, method, target, headers, status, code] of replays) {
      expectError(await exchange(method, target, headers, 'payload'), status, code, what);
    }
    assert.equal(await content('elsewhere'), undefined);
    assert.equal((await exchange('PUT', url, host, 'payload')).status, 200);
    assert.equal(await content('upload-here'), 'payload');
  });

  it('secrets › neither the secret, nor the signing key, nor any signature sent appears in the logs; error bodies never carry the secret', async () => {
    // A batch of its own (the other tests add theirs): good, bad and presigned requests, and the
    // secret sent where it does not belong (as an access key).
    assert.equal((await send('GET', `/${BUCKET}/k1`)).status, 200);
    assert.equal((await send('PUT', `/${BUCKET}/logged`, { body: 'x', headers: { 'x-amz-meta-m': 'v' } })).status, 200);
    await send('GET', `/${BUCKET}/k1`, { with: signerFor(ACCESS, 'not-the-secret-123') });
    await send('GET', `/${BUCKET}/k1`, { with: signerFor(SECRET, SECRET) });
    await send('GET', `/${BUCKET}/nope`);
    const presigned = await presignTarget({ method: 'GET', port: server.port, path: `/${BUCKET}/k1`, signer });
    assert.equal((await exchange('GET', presigned, [['host', `127.0.0.1:${server.port}`]])).status, 200);
    await exchange('GET', withParam(presigned, 'X-Amz-Expires', '301'), [['host', `127.0.0.1:${server.port}`]]);
    const logs = server.logs();
    assert.ok(logs.length > 1000, 'trace logging produced output');
    assert.equal(logs.includes(SECRET), false, 'the secret key is in the logs');
    assert.equal(logs.includes(Buffer.from(SECRET).toString('base64')), false, 'the secret key (base64) is in the logs');
    assert.ok(signatures.size >= 5);
    for (const s of signatures) if (s) assert.equal(logs.includes(s), false, `a request signature is in the logs: ${s}`);
    assert.doesNotMatch(logs, /AWS4-HMAC-SHA256 Credential=|"authorization"/i, 'an Authorization header is in the logs');
    // The one place an error body may show it: InvalidAccessKeyId echoing what this client itself
    // sent as its access key id (as S3 does).
    for (const body of errorBodies) {
      assert.equal(body.replace(`<AWSAccessKeyId>${SECRET}</AWSAccessKeyId>`, '').includes(SECRET), false, `secret in an error body: ${body}`);
    }
  });

  it('errors › a real internal error (a data file gone) answers without stack, path or cause; the server keeps serving', async () => {
    // Larger than the inline limit (128 KiB): its bytes are a data piece on disk.
    assert.equal((await send('PUT', `/${BUCKET}/broken`, { body: 'will lose its data'.repeat(10_000) })).status, 200);
    const objects = join(server.dataDir, 'objects');
    const before = new Set<string>();
    for (const shard of await readdir(objects)) for (const f of await readdir(join(objects, shard))) before.add(join(objects, shard, f));
    // Remove the newest piece: the one just written (the others belong to earlier objects).
    const newest = [...before].sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;
    await unlink(newest);
    const res = await send('GET', `/${BUCKET}/broken`);
    // The read fails before a byte is sent: a proper S3 error, generic, without the cause
    // (ENOENT), the file's path or a stack, and without the object's headers.
    const err = expectError(res, 500, 'InternalError', 'GET with its data gone');
    assert.equal(err.message, 'We encountered an internal error. Please try again.');
    assert.equal(leakIn(res.body.toString(), [server.dataDir, REPO_ROOT.replace(/\/$/, '')]), undefined, res.body.toString());
    assert.equal(res.headers['etag'], undefined, 'the error carries the object ETag');
    // The log has the cause, for the operator.
    assert.match(server.logs(), /"level":50[^\n]*ENOENT/);
    assert.equal((await send('GET', `/${BUCKET}/k1`)).body.toString(), 'one');
    for (const body of errorBodies) assert.equal(leakIn(body, [server.dataDir, REPO_ROOT.replace(/\/$/, '')]), undefined, body);
  });

  it('startup › the default pair is used only with a warning; operator credentials give none; empty or short secrets are refused', async () => {
    const dataArgs = ['--data', join(server.dataDir, 'startup-check')];
    const dflt = await runStrata(dataArgs, {});
    assert.match(dflt.out, /"level":40[^\n]*USING THE DEFAULT CREDENTIALS/, dflt.out);
    const operator = await runStrata(dataArgs, { STRATA_ACCESS_KEY: 'op-key', STRATA_SECRET_KEY: 'op-secret-123' });
    assert.match(operator.out, /"msg":"listening"/, operator.out);
    assert.doesNotMatch(operator.out, /DEFAULT CREDENTIALS/);
    assert.equal(operator.out.includes('op-secret-123'), false, 'the operator secret was logged at startup');
    const refused: Array<[string, string[], Record<string, string>, RegExp]> = [
      ['empty --secret-key', ['--access-key', 'op-key', '--secret-key', ''], {}, /secret key is set but empty/],
      ['empty STRATA_SECRET_KEY', [], { STRATA_ACCESS_KEY: 'op-key', STRATA_SECRET_KEY: '' }, /secret key is set but empty/],
      ['empty both (an unset shell variable)', [], { STRATA_ACCESS_KEY: '', STRATA_SECRET_KEY: '' }, /set but empty/],
      ['short secret', ['--access-key', 'op-key', '--secret-key', 'short'], {}, /at least 8 characters/],
      ['short secret (env)', [], { STRATA_ACCESS_KEY: 'op-key', STRATA_SECRET_KEY: '1234567' }, /at least 8 characters/],
      ['secret without key', [], { STRATA_SECRET_KEY: 'long-enough-secret' }, /both/],
    ];
    for (const [what, args, env, message] of refused) {
      const r = await runStrata([...dataArgs, ...args], env);
      assert.equal(r.code, 2, `${what}: ${r.out}`);
      assert.match(r.out, message, what);
      assert.doesNotMatch(r.out, /listening/, what);
      if (env.STRATA_SECRET_KEY) assert.equal(r.out.includes(env.STRATA_SECRET_KEY), false, `${what}: the secret was echoed`);
    }
  });
});
