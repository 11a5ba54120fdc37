// The request-body XML parser: saxes (a conformant, non-validating XML 1.0 parser) reads the body;
// this file turns its events into the plain element tree the operations read, keeping every text
// value byte for byte (no trimming; saxes decodes the predefined entities and character references
// exactly once and applies XML's CR LF → LF), refusing DOCTYPE (so no entity can be declared) and
// bounding the work (depth, element count). Each operation decides per element how to read a value
// (see `token()` for numbers and booleans).
import { createRequire } from 'node:module';
import type { SaxesParser } from 'saxes';
import { S3Error } from './errors.js';
import type { XmlNode, XmlValue } from './xml.js';

// Loaded on the first XML request body (a synchronous require): most processes start without one.
const requireLazily = createRequire(import.meta.url);
let saxes: typeof SaxesParser | undefined;

export interface XmlLimits {
  /** Most elements in the document (the caller's schema bound, e.g. 1000 Objects × 3 + a few). */
  maxElements?: number;
}

/** Deeper than any S3 request body (CORS rules: 3 levels) by a wide margin; stops stack games. */
const MAX_DEPTH = 64;
const DEFAULT_MAX_ELEMENTS = 100_000;

const malformed = (why?: string): S3Error =>
  new S3Error(
    'MalformedXML',
    why === undefined ? undefined : `The XML you provided was not well-formed or did not validate against our published schema: ${why}.`,
  );

interface Frame {
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
 * as written (after XML's own end-of-line normalisation and reference decoding). Namespace prefixes
 * are dropped from element names; attributes are checked (by saxes) and ignored. Anything that is
 * not well-formed XML is MalformedXML.
 */
export function parseXmlDocument(input: string, expectedRoot: string, limits: XmlLimits = {}): XmlNode {
  const maxElements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;
  saxes ??= (requireLazily('saxes') as typeof import('saxes')).SaxesParser;
  const parser = new saxes({ position: false });
  const top: Frame = { local: '', node: undefined, text: '' };
  const stack: Frame[] = [];
  let elements = 0;
  // saxes reports a well-formedness error through this handler (and keeps going): the first one
  // ends the parse. A DOCTYPE is refused as it arrives, before any entity in it could be used.
  parser.on('error', (e) => {
    throw malformed(e.message.replace(/\.$/, ''));
  });
  parser.on('doctype', () => {
    throw malformed('DOCTYPE and ENTITY declarations are not accepted');
  });
  parser.on('opentag', (tag) => {
    if (++elements > maxElements) throw malformed('too many elements');
    if (stack.length >= MAX_DEPTH) throw malformed('elements nested too deeply');
    const local = tag.name.slice(tag.name.lastIndexOf(':') + 1);
    if (local === '') throw malformed();
    stack.push({ local, node: undefined, text: '' });
  });
  const addText = (t: string): void => {
    const frame = stack[stack.length - 1];
    if (frame) frame.text += t; // outside the root only whitespace can come (saxes checks)
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    const frame = stack.pop()!;
    let value: XmlValue;
    if (frame.node !== undefined) {
      if (!/^[ \t\n]*$/.test(frame.text)) throw malformed(`text mixed with elements in <${frame.local}>`);
      value = frame.node;
    } else value = frame.text;
    attach(stack[stack.length - 1] ?? top, frame.local, value);
  });
  try {
    parser.write(input).close();
  } catch (e) {
    if (e instanceof S3Error) throw e;
    throw malformed(); // saxes's own exceptions (none expected: its errors go to the handler)
  }
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
