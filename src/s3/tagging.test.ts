// Unit tests of tagging.ts: the x-amz-tagging header, the Tagging document and S3's tag limits.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3Error } from './errors.js';
import { buildXml } from './xml.js';
import { parseTaggingHeader, parseTaggingXml, taggingXml, validateTags } from './tagging.js';

const refused = (f: () => unknown, code: string, message?: RegExp): void => {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof S3Error, String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
};
const doc = (pairs: [string, string][]): string =>
  `<Tagging><TagSet>${pairs.map(([k, v]) => `<Tag><Key>${k}</Key><Value>${v}</Value></Tag>`).join('')}</TagSet></Tagging>`;

describe('tagging', () => {
  it('x-amz-tagging › form-urlencoded pairs ("+" a space, a bare key the empty value, empty pieces skipped) → tags in order', () => {
    assert.deepEqual(parseTaggingHeader('a=1&b+c=d%2Be&&flag&%C3%BC=%E6%96%87'), [
      { key: 'a', value: '1' },
      { key: 'b c', value: 'd+e' },
      { key: 'flag', value: '' },
      { key: 'ü', value: '文' },
    ]);
  });

  it('x-amz-tagging › raw UTF-8 bytes (as Node hands them over: latin1) → the characters; raw bytes that are not UTF-8 → InvalidArgument', () => {
    assert.deepEqual(parseTaggingHeader(Buffer.from('ü=文', 'utf8').toString('latin1')), [{ key: 'ü', value: '文' }]);
    assert.throws(
      () => parseTaggingHeader('a=\xff'),
      (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument',
    );
  });

  it('x-amz-tagging › duplicate key, empty key, bad escape, bytes not UTF-8 → InvalidArgument with the header value', () => {
    for (const bad of ['a=1&a=2', '=1', 'a=%zz', 'a=%FF', '%E6%96=1']) {
      assert.throws(
        () => parseTaggingHeader(bad),
        (e: unknown) => e instanceof S3Error && e.code === 'InvalidArgument' && e.fields.ArgumentName === 'x-amz-tagging' && e.fields.ArgumentValue === bad,
        bad,
      );
    }
  });

  it('limits › 11 object tags → BadRequest; 51 bucket tags → BadRequest; 10 and 50 accepted', () => {
    const n = (count: number) => Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: '' }));
    validateTags(n(10), 'object');
    validateTags(n(50), 'bucket');
    refused(() => validateTags(n(11), 'object'), 'BadRequest', /^Object tags cannot be greater than 10$/);
    refused(() => validateTags(n(51), 'bucket'), 'BadRequest', /^Bucket tag count cannot be greater than 50$/);
  });

  it('limits › key 1..128 and value 0..256 characters (multi-byte letters count as characters, not bytes)', () => {
    validateTags([{ key: 'é'.repeat(128), value: 'ü'.repeat(256) }], 'object');
    refused(() => validateTags([{ key: 'é'.repeat(129), value: '' }], 'object'), 'InvalidTag', /TagKey you have provided is invalid/);
    refused(() => validateTags([{ key: '', value: 'v' }], 'object'), 'InvalidTag', /TagKey/);
    refused(() => validateTags([{ key: 'k', value: 'v'.repeat(257) }], 'object'), 'InvalidTag', /TagValue you have provided is invalid/);
  });

  it('limits › counted in UTF-16 positions as S3 documents: an astral letter (U+20000) takes 2 of the 128', () => {
    validateTags([{ key: '\u{20000}'.repeat(64), value: '\u{20000}'.repeat(128) }], 'object');
    refused(() => validateTags([{ key: '\u{20000}'.repeat(65), value: '' }], 'object'), 'InvalidTag', /TagKey/);
    refused(() => validateTags([{ key: 'k', value: '\u{20000}'.repeat(129) }], 'object'), 'InvalidTag', /TagValue/);
  });

  it('limits › characters outside letters, numbers, spaces and _ . : / = + - @ → InvalidTag; aws: (any case) and duplicates → InvalidTag', () => {
    validateTags([{ key: 'Ab 9_.:/=+-@文', value: 'x y' }], 'object');
    for (const bad of ['a,b', 'a;b', 'a?b', 'a*b', 'a#b', 'a%b', 'a\tb', '😀']) {
      refused(() => validateTags([{ key: bad, value: 'v' }], 'object'), 'InvalidTag', /TagKey/);
      refused(() => validateTags([{ key: 'k', value: bad }], 'object'), 'InvalidTag', /TagValue/);
    }
    refused(() => validateTags([{ key: 'aws:cost', value: 'v' }], 'object'), 'InvalidTag', /prefixed with aws:/);
    refused(() => validateTags([{ key: 'AWS:cost', value: 'v' }], 'bucket'), 'InvalidTag', /prefixed with aws:/);
    refused(
      () =>
        validateTags(
          [
            { key: 'a', value: '1' },
            { key: 'a', value: '2' },
          ],
          'object',
        ),
      'InvalidTag',
      /^Cannot provide multiple Tags with the same key$/,
    );
  });

  it('Tagging document › values byte for byte (spaces, entities), empty value, empty TagSet → []', () => {
    assert.deepEqual(
      parseTaggingXml(
        doc([
          [' a ', ' x &#x41; y '],
          ['b', ''],
        ]),
        'object',
      ),
      [
        { key: ' a ', value: ' x A y ' },
        { key: 'b', value: '' },
      ],
    );
    assert.deepEqual(parseTaggingXml('<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet/></Tagging>', 'object'), []);
    assert.deepEqual(parseTaggingXml('<Tagging><TagSet>\n  </TagSet></Tagging>', 'bucket'), []);
    assert.deepEqual(parseTaggingXml('<Tagging><TagSet><Tag><Key>k</Key><Value/></Tag></TagSet></Tagging>', 'object'), [{ key: 'k', value: '' }]);
  });

  it('Tagging document › no TagSet, two TagSets, a Tag without Value or with two Keys, unknown element, other root → MalformedXML', () => {
    for (const bad of [
      '<Tagging></Tagging>',
      '<Tagging><TagSet/><TagSet/></Tagging>',
      '<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>',
      '<Tagging><TagSet><Tag><Key>a</Key><Key>b</Key><Value/></Tag></TagSet></Tagging>',
      '<Tagging><TagSet><Tag><Key>a</Key><Value/><Extra/></Tag></TagSet></Tagging>',
      '<Tagging><TagSet>text</TagSet></Tagging>',
      '<Tags><TagSet/></Tags>',
      '<Tagging><TagSet>',
    ]) {
      refused(() => parseTaggingXml(bad, 'object'), 'MalformedXML');
    }
  });

  it('Tagging document › 11 tags → BadRequest (counted, not cut off)', () => {
    const eleven = Array.from({ length: 11 }, (_, i): [string, string] => [`k${i}`, 'v']);
    refused(() => parseTaggingXml(doc(eleven), 'object'), 'BadRequest');
  });

  it('taggingXml › tags → Tag elements in order; none → an empty TagSet', () => {
    assert.equal(
      buildXml(
        taggingXml([
          { key: 'a&b', value: '' },
          { key: 'c', value: 'd' },
        ]),
      ),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet><Tag><Key>a&amp;b</Key><Value></Value></Tag><Tag><Key>c</Key><Value>d</Value></Tag></TagSet></Tagging>',
    );
    assert.equal(
      buildXml(taggingXml([])),
      '<?xml version="1.0" encoding="UTF-8"?>\n<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet></TagSet></Tagging>',
    );
  });
});
