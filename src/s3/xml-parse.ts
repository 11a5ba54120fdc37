// The request-body XML parser: a small strict XML 1.0 reader that keeps every text value byte for
// byte (no trimming), decodes the five predefined entities and character references exactly once,
// refuses DOCTYPE/ENTITY declarations and bounds its work (depth, element count). S3 request bodies
// are plain element trees, so this is all they need; values are read as strings and each operation
// decides per element how to read them (see `token()` for numbers and booleans).
import { S3Error } from './errors.js';
import type { XmlNode, XmlValue } from './xml.js';

export interface XmlLimits {
  /** Most elements in the document (the caller's schema bound, e.g. 1000 Objects × 3 + a few). */
  maxElements?: number;
}

/** Deeper than any S3 request body (CORS rules: 3 levels) by a wide margin; stops stack games. */
const MAX_DEPTH = 64;
const DEFAULT_MAX_ELEMENTS = 100_000;

const malformed = (why?: string): S3Error =>
  new S3Error('MalformedXML', why === undefined ? undefined : `The XML you provided was not well-formed or did not validate against our published schema: ${why}.`);

/** XML 1.0 Char production, for character references. */
function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/** Characters XML 1.0 forbids literally: most C0 controls, lone surrogates, U+FFFE/U+FFFF. */
const NON_XML_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const PREDEFINED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z_][-A-Za-z0-9_.]*));/y;

/** Decodes references once: `&amp;lt;` is `&lt;`. Unknown entities and bare `&` are not XML. */
function decode(raw: string): string {
  if (!raw.includes('&')) return raw;
  let out = '';
  let from = 0;
  for (let amp = raw.indexOf('&'); amp !== -1; amp = raw.indexOf('&', from)) {
    out += raw.slice(from, amp);
    REFERENCE.lastIndex = amp;
    const m = REFERENCE.exec(raw);
    if (!m) throw malformed('a "&" that starts no character or entity reference');
    if (m[3] !== undefined) {
      const v = PREDEFINED[m[3]];
      if (v === undefined) throw malformed(`the undeclared entity "&${m[3]};"`);
      out += v;
    } else {
      const digits = m[1] ?? m[2]!;
      const cp = digits.length > 8 ? -1 : parseInt(digits, m[1] !== undefined ? 16 : 10);
      if (!isXmlChar(cp)) throw new S3Error('MalformedXML', 'The XML you provided contains characters XML 1.0 does not allow.');
      out += String.fromCodePoint(cp);
    }
    from = REFERENCE.lastIndex;
  }
  return out + raw.slice(from);
}

const NAME = /[A-Za-z_:\u00c0-\uffff][-A-Za-z0-9_:.\u00b7\u00c0-\uffff]*/y;
const SPACE = /[ \t\n]*/y;

interface Frame {
  qname: string;
  local: string;
  node: XmlNode | undefined;
  text: string;
}

/** Adds a finished child to its parent: a repeated name becomes a list (children() reads both). */
function attach(parent: Frame, name: string, value: XmlValue): void {
  parent.node ??= {};
  const prev = parent.node[name];
  if (prev === undefined) parent.node[name] = value;
  // Element values are strings or nodes, never lists: a list here is one attach() made.
  else if (Array.isArray(prev)) prev.push(value);
  else parent.node[name] = [prev, value];
}

/**
 * Parses a request body into its root element's content. An element with child elements is an
 * XmlNode (text between its children must be whitespace); an element without is its text, exactly
 * as written (after XML's own end-of-line normalisation, CR LF → LF, and reference decoding).
 * Namespace prefixes are dropped from element names; attributes are checked and ignored.
 * Anything that is not well-formed XML is MalformedXML.
 */
export function parseXmlDocument(input: string, expectedRoot: string, limits: XmlLimits = {}): XmlNode {
  if (NON_XML_CHAR.test(input)) throw new S3Error('MalformedXML', 'The XML you provided contains characters XML 1.0 does not allow.');
  const maxElements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;
  // XML 1.0 §2.11: every CR LF and lone CR reads as LF (a CR in a value is written &#13;).
  let s = input.includes('\r') ? input.replace(/\r\n?/g, '\n') : input;
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  let pos = 0;
  let elements = 0;
  const stack: Frame[] = [];
  const top: Frame = { qname: '', local: '', node: undefined, text: '' };
  let rootSeen = false;

  const expect = (lit: string): void => {
    if (!s.startsWith(lit, pos)) throw malformed();
    pos += lit.length;
  };
  const skipSpace = (): number => {
    SPACE.lastIndex = pos;
    SPACE.exec(s);
    const n = SPACE.lastIndex - pos;
    pos = SPACE.lastIndex;
    return n;
  };
  const name = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(s);
    if (!m) throw malformed();
    pos = NAME.lastIndex;
    return m[0];
  };
  /** Skips what may appear anywhere outside an element's text: comments and processing instructions. */
  const skipMisc = (): boolean => {
    if (s.startsWith('<!--', pos)) {
      const end = s.indexOf('-->', pos + 4);
      if (end === -1 || s.slice(pos + 4, end).includes('--')) throw malformed();
      pos = end + 3;
      return true;
    }
    if (s.startsWith('<?', pos)) {
      const end = s.indexOf('?>', pos + 2);
      if (end === -1) throw malformed();
      pos = end + 2;
      return true;
    }
    return false;
  };

  // Prolog: declaration, comments, PIs, whitespace. A DOCTYPE (and with it any entity) is refused.
  for (;;) {
    skipSpace();
    if (s.startsWith('<!DOCTYPE', pos) || s.startsWith('<!ENTITY', pos)) throw malformed('DOCTYPE and ENTITY declarations are not accepted');
    if (!skipMisc()) break;
  }
  if (s[pos] !== '<') throw malformed();

  while (pos < s.length) {
    const frame = stack[stack.length - 1];
    if (frame === undefined) {
      // After the root element: only whitespace, comments and PIs.
      skipSpace();
      if (pos >= s.length) break;
      if (rootSeen && skipMisc()) continue;
      if (rootSeen) throw malformed('content after the root element');
    } else {
      const lt = s.indexOf('<', pos);
      if (lt === -1) throw malformed('an element that is never closed');
      if (lt > pos) {
        const raw = s.slice(pos, lt);
        if (raw.includes(']]>')) throw malformed();
        frame.text += decode(raw);
        pos = lt;
      }
      if (s.startsWith('</', pos)) {
        pos += 2;
        const qn = name();
        skipSpace();
        expect('>');
        if (qn !== frame.qname) throw malformed(`</${qn}> closes <${frame.qname}>`);
        stack.pop();
        let value: XmlValue;
        if (frame.node !== undefined) {
          if (!/^[ \t\n]*$/.test(frame.text)) throw malformed(`text mixed with elements in <${frame.local}>`);
          value = frame.node;
        } else value = frame.text;
        attach(stack[stack.length - 1] ?? top, frame.local, value);
        continue;
      }
      if (s.startsWith('<![CDATA[', pos)) {
        const end = s.indexOf(']]>', pos + 9);
        if (end === -1) throw malformed();
        frame.text += s.slice(pos + 9, end);
        pos = end + 3;
        continue;
      }
      if (s.startsWith('<!', pos) && !s.startsWith('<!--', pos)) throw malformed();
      if (skipMisc()) continue;
    }
    // A start tag.
    expect('<');
    const qname = name();
    if (++elements > maxElements) throw malformed('too many elements');
    if (stack.length >= MAX_DEPTH) throw malformed('elements nested too deeply');
    let seen: Set<string> | undefined;
    for (;;) {
      const spaced = skipSpace() > 0;
      if (s.startsWith('/>', pos) || s[pos] === '>') break;
      if (!spaced) throw malformed();
      const attr = name();
      seen ??= new Set();
      if (seen.has(attr)) throw malformed(`the attribute ${attr} is repeated`);
      seen.add(attr);
      skipSpace();
      expect('=');
      skipSpace();
      const q = s[pos];
      if (q !== '"' && q !== "'") throw malformed();
      const end = s.indexOf(q, pos + 1);
      if (end === -1) throw malformed();
      const value = s.slice(pos + 1, end);
      if (value.includes('<')) throw malformed();
      decode(value);
      pos = end + 1;
    }
    const local = qname.slice(qname.lastIndexOf(':') + 1);
    if (local === '') throw malformed();
    if (stack.length === 0) {
      if (rootSeen) throw malformed('a second root element');
      rootSeen = true;
    }
    if (s.startsWith('/>', pos)) {
      pos += 2;
      attach(stack[stack.length - 1] ?? top, local, '');
    } else {
      pos += 1;
      stack.push({ qname, local, node: undefined, text: '' });
    }
  }
  if (stack.length > 0 || !rootSeen) throw malformed();
  const root = top.node?.[expectedRoot];
  if (root === undefined) throw malformed(`the root element is not <${expectedRoot}>`);
  return typeof root === 'object' && root !== null && !Array.isArray(root) ? root : {};
}

/**
 * The text of an element whose schema type is a number or a boolean: XML Schema collapses the
 * whitespace of such values (`<PartNumber> 1 </PartNumber>` is 1, as a validating parser reads
 * it). Strings and enumerations of strings (keys, ETags, origins, LocationConstraint) are never
 * read through this: their whitespace is part of the value.
 */
export function token(v: string | undefined): string | undefined {
  return v === undefined ? undefined : v.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}
