// The one XML serializer for responses and the one bounded parser for request bodies.
// Escaping happens only here (fast-xml-parser's builder); handlers describe shapes, never strings.
import { createRequire } from 'node:module';
import type { XMLBuilder } from 'fast-xml-parser';
import { parseXmlDocument, type XmlLimits } from './xml-parse.js';

export { token, type XmlLimits } from './xml-parse.js';

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

// Loaded on first use (a synchronous require of its CommonJS build): not every process answers a
// body the builder writes, and loading it cost ~100–190 ms of startup on the test VM.
const requireLazily = createRequire(import.meta.url);
let builderOnce: XMLBuilder | undefined;
function builder(): XMLBuilder {
  if (builderOnce === undefined) {
    const { XMLBuilder } = requireLazily('fast-xml-parser') as typeof import('fast-xml-parser');
    builderOnce = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, processEntities: true });
  }
  return builderOnce;
}

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
 * references (clients that care ask for encoding-type=url). CR too: a literal CR would reach the
 * client's parser as LF (XML end-of-line handling), so a key "a\rb" is written `a&#xd;b`.
 * Applied to the built text, after escaping. */
const XML_INVALID = /[\x00-\x08\x0b-\x1f]/g;

export function buildXml(body: XmlBody): string {
  const content = prune(body.content) as XmlNode;
  const root: XmlNode = body.namespace === false ? content : { '@_xmlns': S3_NS, ...content };
  const xml = builder().build({ [body.root]: root }) as string;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + xml.replace(XML_INVALID, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
}

// ---- hand-written bodies ----------------------------------------------------------------------
// For the few answers where building a shape for the generic builder costs more than the work
// itself (listings: 1000 entries per page). The output is byte for byte what buildXml writes for
// the same shape (xml.test.ts and listing-xml.test.ts compare them).

/** What buildXml writes before the root element. */
export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const XML_ESCAPED = /[&<>'"\x00-\x08\x0b-\x1f]/;
const XML_ESCAPED_ALL = /[&<>'"\x00-\x08\x0b-\x1f]/g;
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' };

/**
 * Text content as buildXml writes it: the five predefined entities, and CR and the control
 * characters XML 1.0 cannot carry as character references (`&#xd;`, `&#x1;`).
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

/**
 * Parses a request body (xml-parse.ts): text values byte for byte, references decoded once,
 * DOCTYPE/ENTITY refused, anything not well-formed MalformedXML. Returns the root element.
 */
export function parseXml(text: string, expectedRoot: string, limits?: XmlLimits): XmlNode {
  return parseXmlDocument(text, expectedRoot, limits);
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
