// The request XML parser: text values byte for byte, references decoded once, well-formedness and bounds.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3Error } from './errors.js';
import { children, parseXml, text, token, type XmlNode } from './xml.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof S3Error ? e.code : `other: ${String(e)}`;
  }
};
const keysOf = (xml: string): Array<string | undefined> => children(parseXml(xml, 'Delete'), 'Object').map((o) => text((o as XmlNode)['Key']));
const del = (...keys: string[]): string => `<Delete>${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;

describe('parseXml › text values', () => {
  it('leading/trailing spaces, tabs, newlines → kept exactly', () => {
    assert.deepEqual(keysOf(del(' a', 'a ', ' ', '\t', '\n', ' \t\nmid dle\n\t ', '  ')), [' a', 'a ', ' ', '\t', '\n', ' \t\nmid dle\n\t ', '  ']);
  });
  it('CR LF and lone CR → LF (XML end-of-line handling); &#13; / &#xD; → a real CR', () => {
    assert.deepEqual(keysOf(del('a\r\nb', 'a\rb', 'a&#13;b', 'a&#xD;&#xA;b')), ['a\nb', 'a\nb', 'a\rb', 'a\r\nb']);
  });
  it('entities decoded exactly once: &amp;lt; → "&lt;", &amp;amp; → "&amp;"', () => {
    assert.deepEqual(keysOf(del('&amp;lt;', '&amp;amp;', '&lt;&gt;&quot;&apos;&amp;', 'a>b')), ['&lt;', '&amp;', '<>"\'&', 'a>b']);
  });
  it('character references (decimal, hex, astral) → the characters', () => {
    assert.deepEqual(keysOf(del('&#65;&#x42;&#x1F600;&#0000067;', '&#32;')), ['AB\u{1F600}C', ' ']);
  });
  it('CDATA → as written, no decoding; comments and PIs inside text are skipped', () => {
    assert.deepEqual(keysOf(del('<![CDATA[ <&amp;> ]]>', 'a<!-- c -->b', 'x<?pi y?>z')), [' <&amp;> ', 'ab', 'xz']);
  });
  it('empty element and <Key/> → ""', () => assert.deepEqual(keysOf('<Delete><Object><Key></Key></Object><Object><Key/></Object></Delete>'), ['', '']));
  it('whitespace between elements is not a value; namespace prefixes are dropped', () => {
    const root = parseXml(
      '<?xml version="1.0" encoding="UTF-8"?>\n<s3:Delete xmlns:s3="x">\n  <s3:Object>\n    <s3:Key>k</s3:Key>\n  </s3:Object>\n  <s3:Quiet>\n true\n</s3:Quiet>\n</s3:Delete>\n',
      'Delete',
    );
    assert.deepEqual(root, { Object: { Key: 'k' }, Quiet: '\n true\n' });
    assert.equal(token(text(root['Quiet'])), 'true');
  });
  it('a byte-order mark, comments and PIs around the root → accepted', () => {
    assert.deepEqual(keysOf('\ufeff<?xml version="1.0"?><!-- c --><Delete><Object><Key>k</Key></Object></Delete><!-- d -->\n'), ['k']);
  });
});

describe('parseXml › refusals (MalformedXML)', () => {
  const bad: Array<[string, string]> = [
    ['undeclared entity', del('&nbsp;')],
    ['bare ampersand', del('a & b')],
    ['unterminated reference', del('&amp')],
    ['reference to a forbidden character', del('&#0;')],
    ['reference to a control character', del('&#x1F;')],
    ['reference out of range', del('&#x110000;')],
    ['a literal control character', del('a\u0001')],
    ['< in text', del('a<b')],
    ['mismatched end tag', '<Delete><Object><Key>a</Kez></Object></Delete>'],
    ['text mixed with elements', '<Delete>x<Object><Key>a</Key></Object></Delete>'],
    ['two roots', '<Delete/><Delete/>'],
    ['text after the root', '<Delete/>x'],
    ['DOCTYPE', '<!DOCTYPE Delete><Delete/>'],
    ['repeated attribute', '<Delete a="1" a="2"/>'],
    ['attribute without quotes', '<Delete a=1/>'],
    ['unclosed comment', '<Delete><!-- </Delete>'],
    ['nesting beyond any S3 body', `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`],
    [']]> in text', del('a]]>b')],
  ];
  for (const [what, xml] of bad)
    it(`${what} → MalformedXML`, () =>
      assert.equal(
        code(() => parseXml(xml, xml.includes('<a>') ? 'a' : 'Delete')),
        'MalformedXML',
      ));
  it('more elements than the caller allows → MalformedXML', () => {
    assert.equal(
      code(() => parseXml(del('a', 'b', 'c'), 'Delete', { maxElements: 6 })),
      'MalformedXML',
    );
    assert.equal(
      code(() => parseXml(del('a', 'b', 'c'), 'Delete', { maxElements: 7 })),
      'ok',
    );
  });
  it('deep nesting of 100,000 levels → MalformedXML, not a stack overflow', () => {
    assert.equal(
      code(() => parseXml('<a>'.repeat(100_000), 'a')),
      'MalformedXML',
    );
  });
});

describe('token', () => {
  it('trims XML whitespace only (a number, boolean or enum value)', () => {
    assert.equal(token(' \t\n\r5\n'), '5');
    assert.equal(token('\u00a05'), '\u00a05');
    assert.equal(token(undefined), undefined);
  });
});
