// Raw authentication cases SDKs will not send, against a real server: presigned URLs whose
// X-Amz-Expires is 0, negative, not a number or above a week (curl on hand-signed URLs); SigV4
// requests dated by a Date header in every form clients send (no x-amz-date); SigV2 requests dated
// before 1970. Signatures are computed by test/helpers/hand-sign.ts, independently of the server.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CURL, describeRun, isolatedClientEnv, newBucketName, run } from '../helpers/clients.js';
import { presignedTarget, send, signV2, signWithDateHeader, xmlText } from '../helpers/hand-sign.js';
import { startServer, type RunningServer } from '../helpers/server.js';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** The Date forms clients send for the instant `t` (whole seconds). */
function dateForms(t: number): Array<[string, string]> {
  const d = new Date(t);
  const hms = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
  const imf = d.toUTCString(); // 'Wed, 02 Dec 2026 19:20:00 GMT'
  const plusOne = new Date(t + 3600_000);
  const hmsPlusOne = `${two(plusOne.getUTCHours())}:${two(plusOne.getUTCMinutes())}:${two(plusOne.getUTCSeconds())}`;
  return [
    ['IMF-fixdate (GMT)', imf],
    ['RFC 1123 +0000', imf.replace(/GMT$/, '+0000')],
    ['RFC 2822 -0000', imf.replace(/GMT$/, '-0000')],
    ['RFC 822 UT', imf.replace(/GMT$/, 'UT')],
    ['military Z', imf.replace(/GMT$/, 'Z')],
    ['an offset (+0100)', `${plusOne.toUTCString().slice(0, 17)}${hmsPlusOne} +0100`],
    ['RFC 850', `${WEEKDAYS[d.getUTCDay()]}, ${two(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${two(d.getUTCFullYear() % 100)} ${hms} GMT`],
    ['asctime', `${imf.slice(0, 3)} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${hms} ${d.getUTCFullYear()}`],
    ['no weekday', imf.slice(5)],
  ];
}

describe('raw authentication (hand-signed)', () => {
  let server: RunningServer;
  let host: string;
  const bucket = newBucketName('rawauth');

  before(async () => {
    server = await startServer();
    host = `127.0.0.1:${server.port}`;
    const now = Math.floor(Date.now() / 1000) * 1000;
    const r = await send(
      `${server.url}/${bucket}`,
      'PUT',
      signWithDateHeader({ method: 'PUT', host, path: `/${bucket}`, dateText: new Date(now).toUTCString(), instant: now }),
    );
    assert.equal(r.status, 200, r.body);
  });

  after(async () => {
    await server?.stop();
  });

  async function curlGet(target: string): Promise<{ status: number; body: string }> {
    const { env, cleanup } = await isolatedClientEnv();
    try {
      const r = await run(CURL, ['-sS', '-g', '-w', '\n%{http_code}', `${server.url}${target}`], { env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, describeRun('curl', r));
      const nl = r.stdout.lastIndexOf('\n');
      return { status: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl) };
    } finally {
      await cleanup();
    }
  }

  const EXPIRES_CASES: Array<[string, number, string, string]> = [
    ['0', 403, 'AccessDenied', 'Request has expired'],
    ['-1', 403, 'AccessDenied', 'X-Amz-Expires must be non-negative'],
    ['-604800', 403, 'AccessDenied', 'X-Amz-Expires must be non-negative'],
    ['604801', 403, 'AccessDenied', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
    [
      '99999999999',
      403,
      'AccessDenied',
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
    ],
    ['abc', 400, 'AuthorizationQueryParametersError', 'X-Amz-Expires should be a number'],
  ];
  for (const [expires, status, code, message] of EXPIRES_CASES) {
    it(`Presigned ListObjects › X-Amz-Expires=${expires} (signed) with curl → ${status} ${code} "${message}"`, async () => {
      const r = await curlGet(presignedTarget({ method: 'GET', host, path: `/${bucket}`, expires }));
      assert.equal(r.status, status, r.body);
      assert.equal(xmlText(r.body, 'Code'), code, r.body);
      assert.equal(xmlText(r.body, 'Message'), message, r.body);
    });
  }

  it('Presigned ListObjects › X-Amz-Expires=1 and =604800 (the bounds) with curl → 200', async () => {
    for (const expires of ['1', '604800']) {
      // Dated a minute ahead (allowed up to 15 minutes): a 1-second URL must not expire on the way.
      const r = await curlGet(presignedTarget({ method: 'GET', host, path: `/${bucket}`, expires, at: Date.now() + 60_000 }));
      assert.equal(r.status, 200, `${expires}: ${r.body}`);
      assert.match(r.body, /<ListBucketResult/);
    }
  });

  it('SigV4 › Date header (no x-amz-date) in every form clients send → 200; the PUT object reads back', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    for (const [label, dateText] of dateForms(now)) {
      const body = randomBytes(100);
      const path = `/${bucket}/date-${label.replace(/[^a-z0-9]+/gi, '-')}`;
      const put = await send(`${server.url}${path}`, 'PUT', signWithDateHeader({ method: 'PUT', host, path, dateText, instant: now, body }), body);
      assert.equal(put.status, 200, `${label} (${dateText}): ${put.body}`);
      const get = await send(`${server.url}${path}`, 'GET', signWithDateHeader({ method: 'GET', host, path, dateText, instant: now }));
      assert.equal(get.status, 200, `${label} (${dateText}): ${get.body}`);
      assert.equal(get.body, body.toString('utf8'));
    }
  });

  it('SigV4 › Date header "-0000" sent by curl (hand-signed headers) → 200', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const dateText = new Date(now).toUTCString().replace(/GMT$/, '-0000');
    const headers = signWithDateHeader({ method: 'GET', host, path: `/${bucket}`, dateText, instant: now });
    const { env, cleanup } = await isolatedClientEnv();
    try {
      const args = ['-sS', '-w', '\n%{http_code}'];
      for (const [n, v] of Object.entries(headers)) args.push('-H', `${n}: ${v}`);
      const r = await run(CURL, [...args, `${server.url}/${bucket}`], { env, timeoutMs: 60_000 });
      assert.equal(r.code, 0, describeRun('curl', r));
      assert.match(r.stdout, /\n200$/, r.stdout);
    } finally {
      await cleanup();
    }
  });

  it('SigV4 › Date header that is no date, or 16 minutes off → 403 AccessDenied / RequestTimeTooSkewed', async () => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const bad = await send(
      `${server.url}/${bucket}`,
      'GET',
      signWithDateHeader({ method: 'GET', host, path: `/${bucket}`, dateText: 'Bad Date', instant: now }),
    );
    assert.equal(bad.status, 403, bad.body);
    assert.equal(xmlText(bad.body, 'Code'), 'AccessDenied');
    const later = now + 16 * 60_000;
    const skewed = await send(
      `${server.url}/${bucket}`,
      'GET',
      signWithDateHeader({ method: 'GET', host, path: `/${bucket}`, dateText: new Date(later).toUTCString(), instant: later }),
    );
    assert.equal(skewed.status, 403, skewed.body);
    assert.equal(xmlText(skewed.body, 'Code'), 'RequestTimeTooSkewed');
  });

  it('SigV2 › Date or x-amz-date before 1970 → 403 AccessDenied (not RequestTimeTooSkewed); a current "-0000" date → 200', async () => {
    for (const old of ['Tue, 07 Jul 1950 21:53:04 GMT', 'Wed, 31 Dec 1969 23:59:59 GMT']) {
      for (const headers of [signV2({ method: 'GET', path: `/${bucket}`, date: old }), signV2({ method: 'GET', path: `/${bucket}`, amzDate: old })]) {
        const r = await send(`${server.url}/${bucket}`, 'GET', headers);
        assert.equal(r.status, 403, r.body);
        assert.equal(xmlText(r.body, 'Code'), 'AccessDenied', r.body);
      }
    }
    const ok = await send(
      `${server.url}/${bucket}`,
      'GET',
      signV2({ method: 'GET', path: `/${bucket}`, date: new Date().toUTCString().replace(/GMT$/, '-0000') }),
    );
    assert.equal(ok.status, 200, ok.body);
  });
});
