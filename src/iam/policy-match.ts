// The matching primitives of the IAM policy language: `*`/`?` globs, policy variables (`${aws:username}`,
// `${*}`…) and IPv4/IPv6 CIDR blocks. Pure functions, no allocation on the hot path except substitution.

/**
 * Does `text` match the glob `pattern` (`*` any run of characters, `/` included; `?` exactly one)?
 * Case-sensitive: callers lower-case both sides where the language is case-insensitive (actions).
 * Linear backtracking on the last `*` (the classic two-pointer algorithm): O(n·m) worst case, no regex.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  const pl = pattern.length;
  const tl = text.length;
  while (t < tl) {
    const c = p < pl ? pattern.charCodeAt(p) : -1;
    if (c === 42 /* * */) {
      star = p++;
      mark = t;
    } else if (c === 63 /* ? */ || (c !== -1 && c === text.charCodeAt(t))) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pl && pattern.charCodeAt(p) === 42) p++;
  return p === pl;
}

/** Whether a pattern has glob characters (otherwise a plain comparison does). */
export const hasGlob = (s: string): boolean => s.includes('*') || s.includes('?');

/** The request facts a policy can test: condition keys (lower-cased) → their values (several for multivalued keys). */
export type ConditionValues = Pick<ReadonlyMap<string, readonly string[]>, 'get'>;

/**
 * Builds the condition context from plain values. Keys are case-insensitive as in AWS (stored lower-cased,
 * except the tag key after `/` in `s3:ExistingObjectTag/<key>` and the like, which is kept as written);
 * `undefined` means the key is absent from the request; an array is a multivalued key (an empty array is
 * present but empty: ForAllValues is then true, ForAnyValue false).
 */
export function conditionContext(values: Record<string, string | number | boolean | readonly string[] | undefined>): ConditionValues {
  const out = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    out.set(normalizeKey(k), Array.isArray(v) ? v : [String(v)]);
  }
  return out;
}

/** A condition key as the context stores it: the part before the first `/` lower-cased. */
export function normalizeKey(key: string): string {
  const slash = key.indexOf('/');
  return slash === -1 ? key.toLowerCase() : key.slice(0, slash).toLowerCase() + key.slice(slash);
}

/** `${name}` or `${name, 'default'}` in a Resource or a condition value. */
const VARIABLE = /\$\{([^}',]+?)\s*(?:,\s*'([^']*)'\s*)?\}/g;

/**
 * A string that may hold policy variables, split once at compile time. `resolve` substitutes them from the
 * request's context; a variable whose key is absent (and has no default) makes the string unresolvable
 * (undefined): AWS then treats the element as not matching. `${*}`, `${?}`, `${$}` stand for the literal
 * characters (so a Resource can name a key containing `*`).
 */
export class Template {
  private readonly parts: ReadonlyArray<string | { key: string; fallback: string | undefined }>;
  private constructor(
    parts: Array<string | { key: string; fallback: string | undefined }>,
    readonly literal: string | undefined,
  ) {
    this.parts = parts;
  }

  /** `variables`: false for Version 2008-10-17 documents, where `${…}` is plain text. */
  static of(text: string, variables: boolean): Template {
    if (!variables || !text.includes('${')) return new Template([], text);
    const parts: Array<string | { key: string; fallback: string | undefined }> = [];
    let last = 0;
    for (const m of text.matchAll(VARIABLE)) {
      if (m.index > last) parts.push(text.slice(last, m.index));
      const name = m[1]!.trim();
      if (name === '*' || name === '?' || name === '$') parts.push(`\u0000${name}`);
      else parts.push({ key: normalizeKey(name), fallback: m[2] });
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push(text.slice(last));
    return new Template(parts, undefined);
  }

  /**
   * The text with variables substituted, or undefined when one is absent. Values substituted in are
   * escaped for globbing (a `*` in a user name does not become a wildcard): escaped characters come back
   * as `\u0000*`, which `globMatchEscaped` reads as the literal.
   */
  resolve(context: ConditionValues): string | undefined {
    if (this.literal !== undefined) return this.literal;
    let out = '';
    for (const part of this.parts) {
      if (typeof part === 'string') out += part;
      else {
        const v = context.get(part.key);
        const value = v !== undefined && v.length === 1 ? v[0]! : part.fallback;
        if (value === undefined) return undefined;
        out += hasGlob(value) ? value.replace(/[*?]/g, '\u0000$&') : value;
      }
    }
    return out;
  }
}

/**
 * globMatch where `\u0000` escapes the next character (a literal `*` or `?` from `${*}` or a substituted
 * value). Rare path (only patterns with a substituted wildcard character): the pattern becomes tokens
 * (-1 `*`, -2 `?`, otherwise a character code), matched by the same two-pointer algorithm — no regex, so no
 * catastrophic backtracking whatever the policy says.
 */
export function globMatchEscaped(pattern: string, text: string): boolean {
  if (!pattern.includes('\u0000')) return globMatch(pattern, text);
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern.charCodeAt(i);
    if (c === 0 && i + 1 < pattern.length) tokens.push(pattern.charCodeAt(++i));
    else tokens.push(c === 42 ? -1 : c === 63 ? -2 : c);
  }
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const k = p < tokens.length ? tokens[p]! : -3;
    if (k === -1) {
      star = p++;
      mark = t;
    } else if (k === -2 || k === text.charCodeAt(t)) {
      p++;
      t++;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < tokens.length && tokens[p] === -1) p++;
  return p === tokens.length;
}

/** The pattern as plain text (escapes removed): for the exact comparisons of StringEquals and friends. */
export const literalText = (s: string): string => (s.includes('\u0000') ? s.replace(/\u0000(.)/gs, '$1') : s);

/** An address block: 16 bytes (IPv4 as ::ffff:a.b.c.d) and the prefix length in that space. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
}

/** Parses `a.b.c.d[/n]` or an IPv6 address `[/n]`; undefined when invalid. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const addr = parseIp(slash === -1 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const v4 = !text.includes(':');
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash !== -1) {
    const n = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(n) || Number(n) > max) return undefined;
    bits = Number(n);
  }
  return { bytes: addr, bits: v4 ? bits + 96 : bits };
}

let lastIpText = '';
let lastIp: Uint8Array | undefined;

/**
 * An IPv4 or IPv6 address as 16 bytes (IPv4 and IPv4-mapped IPv6 alike), or undefined. The last answer is
 * remembered: a request tests its one aws:SourceIp against several statements, a client sends many requests.
 * Callers must not modify the bytes.
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (text === lastIpText) return lastIp;
  const bytes = parseIpUncached(text);
  lastIpText = text;
  lastIp = bytes;
  return bytes;
}

function parseIpUncached(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  if (!text.includes(':')) {
    const v4 = parseV4(text);
    if (!v4) return undefined;
    out[10] = 0xff;
    out[11] = 0xff;
    out.set(v4, 12);
    return out;
  }
  const zone = text.indexOf('%');
  let s = zone === -1 ? text : text.slice(0, zone);
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    // An embedded IPv4 tail (::ffff:1.2.3.4): rewritten as its two hexadecimal groups.
    const v4 = parseV4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    s = `${s.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const group = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...head, ...new Array<number>(8 - total).fill(0), ...rest];
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** a.b.c.d without leading signs or spaces, each part 0-255 and at most 3 digits; a hand loop (hot path). */
function parseV4(text: string): number[] | undefined {
  const out: number[] = [];
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c === 46 /* . */) {
      if (digits === 0 || n > 255) return undefined;
      out.push(n);
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      n = n * 10 + (c - 48);
      digits++;
    } else return undefined;
  }
  return out.length === 4 ? out : undefined;
}

/** Is the address inside the block? */
export function cidrContains(block: Cidr, addr: Uint8Array): boolean {
  const full = block.bits >> 3;
  for (let i = 0; i < full; i++) if (block.bytes[i] !== addr[i]) return false;
  const rem = block.bits & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (block.bytes[full]! & mask) === (addr[full]! & mask);
}
