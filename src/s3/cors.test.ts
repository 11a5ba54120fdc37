// CORS: configuration parsing and validation, rule matching, response headers, rule lookup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../store/errors.js';
import type { MetaStore } from '../store/types.js';
import {
  type CorsRule,
  CORS_VARY,
  actualRequestHeaders,
  corsResponseHeaders,
  corsToXml,
  defaultCorsRules,
  deserializeCors,
  effectiveCorsRules,
  findCorsRule,
  matchesPattern,
  parseCorsXml,
  parseRequestHeaders,
  serializeCors,
} from './cors.js';
import { S3Error } from './errors.js';
import { buildXml } from './xml.js';

function rule(partial: Partial<CorsRule>): CorsRule {
  return { allowedMethods: ['GET'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [], ...partial };
}

function s3Code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
  assert.fail('expected an S3Error');
}

const cfg = (rules: string) => `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${rules}</CORSConfiguration>`;

describe('CORS matchesPattern', () => {
  it('matchesPattern › no wildcard → exact, case-sensitive match only', () => {
    assert.equal(matchesPattern('https://app.example.com', 'https://app.example.com'), true);
    assert.equal(matchesPattern('https://app.example.com', 'https://APP.example.com'), false);
    assert.equal(matchesPattern('https://app.example.com', 'https://app.example.com:8443'), false);
  });
  it('matchesPattern › one wildcard → any run of characters in its place, also empty', () => {
    assert.equal(matchesPattern('https://*.example.com', 'https://a.b.example.com'), true);
    assert.equal(matchesPattern('https://*.example.com', 'http://a.example.com'), false);
    assert.equal(matchesPattern('https://*.example.com', 'https://example.com'), false);
    assert.equal(matchesPattern('*', 'null'), true);
    assert.equal(matchesPattern('x-amz-*', 'x-amz-'), true);
    assert.equal(matchesPattern('x-amz-*', 'x-amzz'), false);
  });
  it('matchesPattern › head and tail overlapping in a short value → no match', () => {
    assert.equal(matchesPattern('ab*ba', 'aba'), false);
    assert.equal(matchesPattern('ab*ba', 'abba'), true);
  });
});

describe('CORS findCorsRule', () => {
  const rules = [
    rule({ id: 'puts', allowedMethods: ['PUT', 'POST'], allowedOrigins: ['https://up.example.com'], allowedHeaders: ['Content-Type', 'X-Amz-*'] }),
    rule({ id: 'reads', allowedMethods: ['GET', 'HEAD'], allowedOrigins: ['https://*.example.com'] }),
    rule({ id: 'any', allowedMethods: ['GET', 'PUT'], allowedOrigins: ['*'], allowedHeaders: ['*'] }),
  ];
  it('findCorsRule › origin and method allowed by several rules → the first one wins', () => {
    assert.equal(findCorsRule(rules, 'https://up.example.com', 'PUT')?.id, 'puts');
    assert.equal(findCorsRule(rules, 'https://up.example.com', 'GET')?.id, 'reads');
    assert.equal(findCorsRule(rules, 'https://other.org', 'GET')?.id, 'any');
  });
  it('findCorsRule › method not in any rule for the origin → no rule', () => {
    assert.equal(findCorsRule(rules, 'https://other.org', 'DELETE'), undefined);
    assert.equal(findCorsRule(rules, 'https://www.example.com', 'DELETE'), undefined);
  });
  it('findCorsRule › method names are exact (lowercase does not match)', () => {
    assert.equal(findCorsRule([rule({ allowedMethods: ['GET'] })], 'https://a', 'get'), undefined);
  });
  it('findCorsRule › requested headers match AllowedHeader patterns case-insensitively', () => {
    const only = [rules[0]!];
    assert.equal(findCorsRule(only, 'https://up.example.com', 'PUT', ['content-type', 'x-amz-date', 'X-AMZ-CONTENT-SHA256'])?.id, 'puts');
    assert.equal(findCorsRule(only, 'https://up.example.com', 'PUT', ['content-type', 'authorization']), undefined);
  });
  it('findCorsRule › requested header not allowed by the first rule → a later rule allowing it wins', () => {
    assert.equal(findCorsRule(rules, 'https://up.example.com', 'PUT', ['authorization'])?.id, 'any');
  });
  it('findCorsRule › rule without AllowedHeader → only preflights requesting no headers match', () => {
    const r = [rule({ allowedOrigins: ['https://a'] })];
    assert.ok(findCorsRule(r, 'https://a', 'GET', []));
    assert.equal(findCorsRule(r, 'https://a', 'GET', ['x-custom']), undefined);
    // Actual requests (no header list) are not checked against AllowedHeader.
    assert.ok(findCorsRule(r, 'https://a', 'GET'));
  });
  it('parseRequestHeaders › comma list with spaces and empty entries → lowercased names', () => {
    assert.deepEqual(parseRequestHeaders(' Content-Type, X-Amz-Date,,authorization '), ['content-type', 'x-amz-date', 'authorization']);
    assert.deepEqual(parseRequestHeaders(undefined), []);
  });
});

describe('CORS parseCorsXml', () => {
  it('parseCorsXml › full rule with namespace → every field, in order', () => {
    const rules = parseCorsXml(
      cfg(
        '<CORSRule><ID>r1</ID><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedOrigin>http://localhost:3000</AllowedOrigin>' +
          '<AllowedMethod>PUT</AllowedMethod><AllowedMethod>GET</AllowedMethod><AllowedHeader>*</AllowedHeader>' +
          '<ExposeHeader>ETag</ExposeHeader><ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>' +
          '<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>',
      ),
    );
    assert.deepEqual(rules, [
      {
        id: 'r1',
        allowedMethods: ['PUT', 'GET'],
        allowedOrigins: ['https://*.example.com', 'http://localhost:3000'],
        allowedHeaders: ['*'],
        exposeHeaders: ['ETag', 'x-amz-request-id'],
        maxAgeSeconds: 3000,
      },
      { allowedMethods: ['HEAD'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [] },
    ]);
  });
  for (const [why, xml, code] of [
    ['not XML', 'nope', 'MalformedXML'],
    ['wrong root', '<CORSRules><CORSRule/></CORSRules>', 'MalformedXML'],
    ['no CORSRule', cfg(''), 'MalformedXML'],
    ['rule without AllowedMethod', cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule>'), 'MalformedXML'],
    ['rule without AllowedOrigin', cfg('<CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule>'), 'MalformedXML'],
    [
      'unknown element in a rule',
      cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus>1</Bogus></CORSRule>'),
      'MalformedXML',
    ],
    [
      'MaxAgeSeconds not a number',
      cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>ten</MaxAgeSeconds></CORSRule>'),
      'MalformedXML',
    ],
    [
      'MaxAgeSeconds negative',
      cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule>'),
      'MalformedXML',
    ],
    ['two IDs', cfg('<CORSRule><ID>a</ID><ID>b</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'), 'MalformedXML'],
    ['PATCH method', cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>'), 'InvalidRequest'],
    ['lowercase method', cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod></CORSRule>'), 'InvalidRequest'],
    [
      'origin with two wildcards',
      cfg('<CORSRule><AllowedOrigin>https://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'),
      'InvalidRequest',
    ],
    [
      'header with two wildcards',
      cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>x-*-*</AllowedHeader></CORSRule>'),
      'InvalidRequest',
    ],
    [
      'ExposeHeader with a space',
      cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>a b</ExposeHeader></CORSRule>'),
      'InvalidRequest',
    ],
    ['101 rules', cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(101)), 'InvalidRequest'],
  ] as const) {
    it(`parseCorsXml › ${why} → ${code}`, () =>
      assert.equal(
        s3Code(() => parseCorsXml(xml)),
        code,
      ));
  }
  it('parseCorsXml › exactly 100 rules → accepted', () => {
    assert.equal(parseCorsXml(cfg('<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>'.repeat(100))).length, 100);
  });
});

describe('CORS configuration out and at rest', () => {
  const rules: CorsRule[] = [
    { id: 'a&b', allowedMethods: ['GET', 'PUT'], allowedOrigins: ['https://x'], allowedHeaders: ['*'], exposeHeaders: ['ETag'], maxAgeSeconds: 60 },
    { allowedMethods: ['HEAD'], allowedOrigins: ['*'], allowedHeaders: [], exposeHeaders: [] },
  ];
  it('corsToXml › rules → CORSConfiguration golden string (escaped, optional fields omitted)', () => {
    assert.equal(
      buildXml(corsToXml(rules)),
      '<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        '<CORSRule><ID>a&amp;b</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>' +
        '<AllowedOrigin>https://x</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>' +
        '<CORSRule><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>',
    );
  });
  it('corsToXml › its XML parses back to the same rules', () => {
    assert.deepEqual(parseCorsXml(buildXml(corsToXml(rules))), rules);
  });
  it('serializeCors › JSON round trip → same rules; unreadable JSON → throws', () => {
    assert.deepEqual(deserializeCors(serializeCors(rules)), rules);
    assert.throws(() => deserializeCors('{"v":2,"rules":[]}'));
    assert.throws(() => deserializeCors('{"v":1,"rules":[{"allowedOrigins":["*"]}]}'));
  });
});

describe('CORS response headers', () => {
  it('corsResponseHeaders › rule allowing * → Allow-Origin *, no credentials, Vary', () => {
    const h = corsResponseHeaders(rule({ allowedMethods: ['GET', 'PUT'], exposeHeaders: ['ETag'], maxAgeSeconds: 10 }), 'https://a');
    assert.deepEqual(h, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-expose-headers': 'ETag',
      'access-control-max-age': '10',
      vary: CORS_VARY,
    });
  });
  it('corsResponseHeaders › specific origin → echoed with credentials; preflight headers echoed', () => {
    const h = corsResponseHeaders(rule({ allowedOrigins: ['https://*.a'] }), 'https://x.a', ['content-type', 'x-amz-date']);
    assert.equal(h['access-control-allow-origin'], 'https://x.a');
    assert.equal(h['access-control-allow-credentials'], 'true');
    assert.equal(h['access-control-allow-headers'], 'content-type, x-amz-date');
    assert.equal(h['access-control-max-age'], undefined);
    assert.equal(h['access-control-expose-headers'], undefined);
  });
  it('actualRequestHeaders › no rules → nothing; rules without a match → only Vary', () => {
    assert.deepEqual(actualRequestHeaders(undefined, 'https://a', 'GET'), {});
    assert.deepEqual(actualRequestHeaders([rule({ allowedOrigins: ['https://b'] })], 'https://a', 'GET'), { vary: CORS_VARY });
    assert.equal(actualRequestHeaders([rule({})], 'https://a', 'GET')['access-control-allow-origin'], '*');
  });
  it('defaultCorsRules › no origins → off; origins → all five methods, any header, ETag exposed', () => {
    assert.equal(defaultCorsRules([]), undefined);
    const r = defaultCorsRules(['http://localhost:5173'])![0]!;
    assert.deepEqual([...r.allowedMethods].sort(), ['DELETE', 'GET', 'HEAD', 'POST', 'PUT']);
    assert.ok(findCorsRule([r], 'http://localhost:5173', 'PUT', ['x-amz-checksum-crc32', 'content-md5']));
    assert.equal(findCorsRule([r], 'http://evil.example', 'PUT'), undefined);
    for (const h of ['ETag', 'x-amz-version-id', 'x-amz-checksum-crc64nvme', 'Content-Range']) assert.ok(r.exposeHeaders.includes(h), h);
  });
});

describe('CORS effectiveCorsRules', () => {
  const stored = serializeCors([rule({ id: 'bucket', allowedOrigins: ['https://b'] })]);
  const calls: string[] = [];
  const meta = {
    getBucketConfig(bucket: string, name: string) {
      calls.push(`${bucket}/${name}`);
      if (bucket === 'missing') throw new StoreError('NoSuchBucket');
      return bucket === 'configured' ? stored : undefined;
    },
  } as unknown as MetaStore;
  const serverDefault = defaultCorsRules(['*']);

  it('effectiveCorsRules › bucket with its own configuration → its rules, not the default (one lookup)', async () => {
    calls.length = 0;
    assert.equal((await effectiveCorsRules(meta, 'configured', serverDefault))?.[0]?.id, 'bucket');
    assert.deepEqual(calls, ['configured/cors']);
  });
  it('effectiveCorsRules › bucket without configuration, missing bucket, no bucket → the server default', async () => {
    calls.length = 0;
    assert.equal(await effectiveCorsRules(meta, 'plain', serverDefault), serverDefault);
    assert.equal(await effectiveCorsRules(meta, 'missing', serverDefault), serverDefault);
    assert.equal(await effectiveCorsRules(meta, undefined, serverDefault), serverDefault);
    assert.equal(await effectiveCorsRules(meta, 'plain', undefined), undefined);
    assert.deepEqual(calls, ['plain/cors', 'missing/cors', 'plain/cors']);
  });
});
