// The Condition element: parsed and compiled once (operators, set qualifiers, …IfExists, values with
// policy variables, CIDR blocks, dates and numbers pre-parsed), then tested against a request's context.
import type { OperatorInfo } from './policy-catalogue.js';
import { OPERATORS, knownConditionKey } from './policy-catalogue.js';
import type { Cidr, ConditionValues } from './policy-match.js';
import { Template, cidrContains, globMatchEscaped, normalizeKey, parseCidr, parseIp, literalText } from './policy-match.js';
import { PolicyError } from './policy-error.js';

/** One compiled test: `"StringLike": {"s3:prefix": ["home/", "home/${aws:username}/*"]}` gives one per key. */
export interface CompiledCondition {
  /** As written, for logs and docs. */
  readonly operator: string;
  readonly key: string;
  /** The context key (normalised). */
  readonly contextKey: string;
  readonly info: OperatorInfo;
  readonly set: 'any' | 'all' | undefined;
  readonly ifExists: boolean;
  readonly values: readonly CompiledValue[];
}

type CompiledValue =
  | { readonly kind: 'text'; readonly template: Template }
  | { readonly kind: 'number'; readonly n: number }
  | { readonly kind: 'cidr'; readonly cidr: Cidr }
  | { readonly kind: 'bool'; readonly b: boolean };

const SCALAR = (v: unknown): v is string | number | boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** Parses a Condition element. `variables`: whether `${…}` are policy variables (Version 2012-10-17). */
export function compileConditions(element: unknown, variables: boolean): CompiledCondition[] {
  if (element === null || typeof element !== 'object' || Array.isArray(element)) throw new PolicyError('Syntax errors in policy.');
  const out: CompiledCondition[] = [];
  for (const [operator, block] of Object.entries(element as Record<string, unknown>)) {
    let name = operator;
    let set: CompiledCondition['set'];
    const colon = name.indexOf(':');
    if (colon !== -1) {
      const qualifier = name.slice(0, colon).toLowerCase();
      if (qualifier === 'foranyvalue') set = 'any';
      else if (qualifier === 'forallvalues') set = 'all';
      else throw new PolicyError(`Invalid Condition type : ${operator}`);
      name = name.slice(colon + 1);
    }
    let ifExists = false;
    if (name.toLowerCase().endsWith('ifexists')) {
      ifExists = true;
      name = name.slice(0, -'IfExists'.length);
    }
    const info = OPERATORS.get(name.toLowerCase());
    if (!info || (ifExists && info.family === 'null')) throw new PolicyError(`Invalid Condition type : ${operator}`);
    if (block === null || typeof block !== 'object' || Array.isArray(block)) throw new PolicyError('Syntax errors in policy.');
    for (const [key, raw] of Object.entries(block as Record<string, unknown>)) {
      if (!knownConditionKey(key)) throw new PolicyError('Policy has an invalid condition key');
      const list = Array.isArray(raw) ? raw : [raw];
      if (list.length === 0 || !list.every(SCALAR)) throw new PolicyError(`Invalid value in Conditions for operator ${operator}`);
      const values = list.map((v) => compileValue(info, String(v), operator, variables));
      out.push({ operator, key, contextKey: normalizeKey(key), info, set, ifExists, values });
    }
  }
  return out;
}

function compileValue(info: OperatorInfo, text: string, operator: string, variables: boolean): CompiledValue {
  switch (info.family) {
    case 'numeric': {
      const n = parseNumber(text);
      if (n === undefined) throw new PolicyError(`Invalid value in Conditions for operator ${operator}`);
      return { kind: 'number', n };
    }
    case 'date': {
      const n = parseDate(text);
      if (n === undefined) throw new PolicyError(`Invalid value in Conditions for operator ${operator}`);
      return { kind: 'number', n };
    }
    case 'ip': {
      const cidr = parseCidr(text.trim());
      if (!cidr) throw new PolicyError('Invalid IP address in Conditions');
      return { kind: 'cidr', cidr };
    }
    case 'bool':
    case 'null': {
      const t = text.toLowerCase();
      if (t !== 'true' && t !== 'false') throw new PolicyError(`Invalid value in Conditions for operator ${operator}`);
      return { kind: 'bool', b: t === 'true' };
    }
    default:
      return { kind: 'text', template: Template.of(text, variables) };
  }
}

const parseNumber = (s: string): number | undefined => {
  const t = s.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
};

/** ISO 8601 (2026-01-01, 2026-01-01T00:00:00Z) or epoch seconds → milliseconds. */
export function parseDate(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Do all the conditions of a statement hold (AND across operators and keys)? */
export function conditionsHold(conditions: readonly CompiledCondition[], context: ConditionValues): boolean {
  for (const c of conditions) if (!conditionHolds(c, context)) return false;
  return true;
}

/**
 * One condition, as the IAM reference describes: OR across its values; a key absent from the request makes
 * a positive operator false and a negated one (StringNotLike…) true, except …IfExists (true when absent)
 * and Null (tests presence). ForAnyValue: some request value matches (false for none); ForAllValues: every
 * request value matches (true for none; ForAnyValue:…IfExists is true for none too). A negated operator under
 * a set qualifier negates per value.
 */
export function conditionHolds(c: CompiledCondition, context: ConditionValues): boolean {
  const actual = context.get(c.contextKey);
  if (c.info.family === 'null') {
    const absent = actual === undefined || actual.length === 0;
    return c.values.some((v) => v.kind === 'bool' && v.b === absent);
  }
  if (c.set === 'all') {
    if (actual === undefined || actual.length === 0) return true;
    for (const a of actual) if (matchesAny(c, a, context) === c.info.negated) return false;
    return true;
  }
  if (c.set === 'any') {
    if (actual === undefined || actual.length === 0) return c.ifExists;
    for (const a of actual) if (matchesAny(c, a, context) !== c.info.negated) return true;
    return false;
  }
  if (actual === undefined || actual.length === 0) return c.ifExists || c.info.negated;
  let positive = false;
  for (const a of actual) {
    if (matchesAny(c, a, context)) {
      positive = true;
      break;
    }
  }
  return positive !== c.info.negated;
}

/** Does one request value match one of the condition's values (the positive comparison)? */
function matchesAny(c: CompiledCondition, actual: string, context: ConditionValues): boolean {
  const { family, test } = c.info;
  switch (family) {
    case 'string':
    case 'arn':
    case 'binary': {
      for (const v of c.values) {
        if (v.kind !== 'text') continue;
        const pattern = v.template.resolve(context);
        if (pattern === undefined) continue;
        if (
          test === 'like'
            ? globMatchEscaped(pattern, actual)
            : test === 'eqi'
              ? literalText(pattern).toLowerCase() === actual.toLowerCase()
              : literalText(pattern) === actual
        ) {
          return true;
        }
      }
      return false;
    }
    case 'numeric':
    case 'date': {
      const n = family === 'numeric' ? parseNumber(actual) : parseDate(actual);
      if (n === undefined) return false;
      for (const v of c.values) if (v.kind === 'number' && compare(test, n, v.n)) return true;
      return false;
    }
    case 'bool': {
      const a = actual.toLowerCase();
      for (const v of c.values) if (v.kind === 'bool' && String(v.b) === a) return true;
      return false;
    }
    case 'ip': {
      const addr = parseIp(actual);
      if (!addr) return false;
      for (const v of c.values) if (v.kind === 'cidr' && cidrContains(v.cidr, addr)) return true;
      return false;
    }
    default:
      return false;
  }
}

function compare(test: OperatorInfo['test'], a: number, b: number): boolean {
  switch (test) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    default:
      return false;
  }
}
