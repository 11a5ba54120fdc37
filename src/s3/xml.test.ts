// XML golden output and the request parser's refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3Error } from './errors.js';
import { buildXml, children, escapeXmlText, parseXml, text } from './xml.js';

describe('buildXml', () => {
  it('ListAllMyBucketsResult → golden text with namespace, order kept, entities escaped', () => {
    const xml = buildXml({
      root: 'ListAllMyBucketsResult',
      content: {
        Owner: { ID: 'id1', DisplayName: 'a&b' },
        Buckets: {
          Bucket: [
            { Name: 'b1', CreationDate: '2025-01-02T03:04:05.678Z' },
            { Name: 'b2', CreationDate: '2025-01-02T03:04:05.000Z' },
          ],
        },
        Missing: undefined,
      },
    });
    assert.equal(
      xml,
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>id1</ID><DisplayName>a&amp;b</DisplayName></Owner>' +
        '<Buckets><Bucket><Name>b1</Name><CreationDate>2025-01-02T03:04:05.678Z</CreationDate></Bucket>' +
        '<Bucket><Name>b2</Name><CreationDate>2025-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>',
    );
  });
  it('Error → no namespace; quotes, <, > escaped', () => {
    const xml = buildXml({ root: 'Error', namespace: false, content: { Code: 'NoSuchKey', Key: '<"k">', RequestId: 'R' } });
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Key>&lt;&quot;k&quot;&gt;</Key><RequestId>R</RequestId></Error>');
  });
  it('empty list → no element; empty string → empty element; booleans and numbers as text', () => {
    const xml = buildXml({ root: 'R', content: { A: [], B: '', C: false, D: 0 } });
    assert.equal(xml, '<?xml version="1.0" encoding="UTF-8"?>\n<R xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><B></B><C>false</C><D>0</D></R>');
  });
  it('control characters → character references (no raw bytes XML 1.0 forbids)', () => {
    const xml = buildXml({ root: 'R', namespace: false, content: { Key: 'a\x01b' } });
    assert.ok(xml.includes('<Key>a&#x1;b</Key>'), xml);
  });
  it('LocationConstraint with empty text → empty root element', () => {
    assert.equal(
      buildXml({ root: 'LocationConstraint', content: { '#text': '' } }),
      '<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></LocationConstraint>',
    );
  });
});

describe('CR in text', () => {
  it('buildXml and escapeXmlText › "a\\rb" → a&#xd;b (a literal CR would be read back as LF); tab and LF stay literal', () => {
    assert.match(buildXml({ root: 'R', content: { Key: 'a\rb\tc\nd' } }), /<Key>a&#xd;b\tc\nd<\/Key>/);
    assert.equal(escapeXmlText('a\rb\tc\nd'), 'a&#xd;b\tc\nd');
    assert.equal(text(parseXml(`<R><Key>${escapeXmlText('a\r\nb')}</Key></R>`, 'R')['Key']), 'a\r\nb');
  });
});

describe('parseXml', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return e instanceof S3Error ? e.code : 'other';
    }
  };
  it('Delete with namespace and entities → keys decoded', () => {
    const root = parseXml(
      '<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b&lt;c</Key></Object><Object><Key>d</Key></Object><Quiet>true</Quiet></Delete>',
      'Delete',
    );
    const keys = children(root, 'Object').map((o) => text((o as Record<string, string>)['Key']));
    assert.deepEqual(keys, ['a&b<c', 'd']);
    assert.equal(text(root['Quiet']), 'true');
  });
  it('garbage → MalformedXML', () =>
    assert.equal(
      code(() => parseXml('not xml', 'Delete')),
      'MalformedXML',
    ));
  it('truncated → MalformedXML', () =>
    assert.equal(
      code(() => parseXml('<Delete><Object><Key>a</Key>', 'Delete')),
      'MalformedXML',
    ));
  it('wrong root → MalformedXML', () =>
    assert.equal(
      code(() => parseXml('<Other/>', 'Delete')),
      'MalformedXML',
    ));
  it('DOCTYPE / entity declarations → MalformedXML (no expansion)', () =>
    assert.equal(
      code(() => parseXml('<!DOCTYPE d [<!ENTITY x "y">]><Delete><Object><Key>&x;</Key></Object></Delete>', 'Delete')),
      'MalformedXML',
    ));
  it('empty body → MalformedXML', () =>
    assert.equal(
      code(() => parseXml('  ', 'Delete')),
      'MalformedXML',
    ));
});
