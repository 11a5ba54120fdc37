// The one XML serializer for responses and the one bounded parser for request bodies.
// Escaping happens only here (fast-xml-parser's builder); handlers describe shapes, never strings.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error } from './errors.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** A value in an XML shape: text, a nested element, or a list of repeated elements. */
export type XmlValue = string | number | boolean | undefined | null | XmlNode | XmlValue[];
export interface XmlNode {
  [name: string]: XmlValue;
}

/** An XML response body: root element name and its children (attributes as '@_name'). */
export interface XmlBody {
  root: string;
  /** Adds xmlns="http://s3.amazonaws.com/doc/2006-03-01/" (all success bodies; not <Error>). */
  namespace?: boolean;
  content: XmlNode;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
  processEntities: true,
});

/** Drops undefined/null children so optional fields simply vanish. */
function prune(v: XmlValue): XmlValue {
  if (Array.isArray(v)) return v.filter((x) => x !== undefined && x !== null).map(prune);
  if (v !== null && typeof v === 'object') {
    const out: XmlNode = {};
    for (const [k, child] of Object.entries(v)) if (child !== undefined && child !== null) out[k] = prune(child);
    return out;
  }
  return v;
}

/** XML 1.0 cannot carry most control characters, even escaped; S3 writes them as character
 * references (clients that care ask for encoding-type=url). Applied to the built text, after escaping. */
const XML_INVALID = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

export function buildXml(body: XmlBody): string {
  const content = prune(body.content) as XmlNode;
  const root: XmlNode = body.namespace === false ? content : { '@_xmlns': S3_NS, ...content };
  const xml = builder.build({ [body.root]: root }) as string;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml.replace(XML_INVALID, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

// ---- hand-written bodies ----------------------------------------------------------------------
// For the few answers where building a shape for the generic builder costs more than the work
// itself (listings: 1000 entries per page). The output is byte for byte what buildXml writes for
// the same shape (xml.test.ts and listing-xml.test.ts compare them).

/** What buildXml writes before the root element. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const XML_ESCAPED = /[&<>'"\x00-\x08\x0b\x0c\x0e-\x1f]/;
const XML_ESCAPED_ALL = /[&<>'"\x00-\x08\x0b\x0c\x0e-\x1f]/g;
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };

/**
 * Text content as buildXml writes it: the five predefined entities, and the control characters
 * XML 1.0 cannot carry as character references (`&#x1;`).
 */
export function escapeXmlText(s: string): string {
  if (!XML_ESCAPED.test(s)) return s;
  return s.replace(XML_ESCAPED_ALL, (c) => ENTITIES[c] ?? `&#x${c.charCodeAt(0).toString(16)};`);
}

/**
 * `<name>text</name>`, as buildXml writes a child with a text, number or boolean value ('' for
 * undefined or null, which buildXml drops). `name` is written as is.
 */
export function xmlElement(name: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXmlText(typeof value === 'string' ? value : String(value))}</${name}>`;
}

/** The start of a success body: declaration and root element with the S3 namespace (buildXml's default). */
export function xmlRootStart(root: string): string {
  return `${XML_DECLARATION}<${root} xmlns="${S3_NS}">`;
}

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: true,
});

/** Largest request XML body accepted (DeleteObjects with 1000 long keys fits well). */
export const MAX_XML_BODY = 2 * 1024 * 1024;

/**
 * Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF), literally or as
 * character references (&#0; &#x1F;): a well-formed document never holds them, and a key with them
 * cannot be named in XML at all (S3 answers MalformedXML too).
 */
function hasNonXmlChar(text: string): boolean {
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) return true;
  for (const m of text.matchAll(/&#(x[0-9a-fA-F]+|[0-9]+);/g)) {
    const ref = m[1]!;
    const cp = ref[0] === 'x' ? parseInt(ref.slice(1), 16) : parseInt(ref, 10);
    const allowed = cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
    if (!allowed) return true;
  }
  return false;
}

/**
 * Parses a request body. Rejects DOCTYPE/ENTITY declarations outright (no entity expansion, no
 * external fetches) and anything not well-formed, as MalformedXML. Returns the root element.
 */
export function parseXml(text: string, expectedRoot: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new S3Error('MalformedXML');
  if (hasNonXmlChar(text)) throw new S3Error('MalformedXML', 'The XML you provided contains characters XML 1.0 does not allow.');
  const trimmed = text.trim();
  if (trimmed === '' || XMLValidator.validate(trimmed) !== true) throw new S3Error('MalformedXML');
  let doc: XmlNode;
  try {
    doc = parser.parse(trimmed) as XmlNode;
  } catch {
    throw new S3Error('MalformedXML');
  }
  const root = doc[expectedRoot];
  if (root === undefined) throw new S3Error('MalformedXML');
  return typeof root === 'object' && root !== null && !Array.isArray(root) ? root : {};
}

/** Children named `name` as a list (the parser collapses single elements). */
export function children(node: XmlNode, name: string): XmlValue[] {
  const v = node[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

export function text(v: XmlValue): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') return Array.isArray(v) ? undefined : '';
  return String(v);
}
