// Reading /metrics in tests: a parser of the Prometheus text format (samples by name and labels,
// the declared types), a scrape signed or not, and the histogram consistency checks.
import assert from 'node:assert/strict';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Keys } from './admin.js';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  samples: Sample[];
  /** # TYPE lines: metric family → type. */
  types: Map<string, string>;
  /** Families with a # HELP line. */
  helped: Set<string>;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text exposition format strictly enough for tests (throws on a line it cannot read). */
export function parsePrometheus(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helped = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    const h = /^# HELP (\S+) (.+)$/.exec(line);
    if (h) {
      helped.add(h[1]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = l[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const v = m[3]!;
    samples.push({ name: m[1]!, labels, value: v === '+Inf' ? Number.POSITIVE_INFINITY : Number(v) });
  }
  return { samples, types, helped };
}

/** The samples of `name` whose labels include `labels`. */
export function find(s: Scrape, name: string, labels: Record<string, string> = {}): Sample[] {
  return s.samples.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
}

/** The one value of `name` with `labels` (0 when there is no such sample). */
export function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const found = find(s, name, labels);
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value ?? 0;
}

/** GET /metrics: unsigned, with extra headers, or SigV4-signed with `keys` (aws-sdk-js's signer). */
export async function scrape(
  url: string,
  opts: { keys?: Keys; headers?: Record<string, string>; path?: string } = {},
): Promise<{ status: number; text: string; contentType: string | null }> {
  const u = new URL(`${url}${opts.path ?? '/metrics'}`);
  let headers: Record<string, string> = { ...opts.headers };
  if (opts.keys) {
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      sha256: Sha256,
      credentials: { accessKeyId: opts.keys.accessKey, secretAccessKey: opts.keys.secretKey },
      uriEscapePath: false,
    });
    const query = Object.fromEntries(u.searchParams);
    const signed = await signer.sign({
      method: 'GET',
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query,
      headers: { host: u.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
    });
    const { host: _host, ...rest } = signed.headers as Record<string, string>;
    headers = rest;
  }
  const res = await fetch(u, { headers });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') };
}

/**
 * Each operation's latency histogram is consistent: buckets cumulative (never decreasing, `le`
 * ascending), the +Inf bucket equal to _count and to the operation's requests, _sum between 0 and
 * `maxSum` (the wall time the requests took at most, when they ran one at a time).
 */
export function checkHistograms(s: Scrape, maxSum: number): void {
  const ops = new Set(find(s, 'strata_s3_request_duration_seconds_count').map((x) => x.labels.operation!));
  assert.ok(ops.size > 0, 'some operation was timed');
  for (const op of ops) {
    const buckets = find(s, 'strata_s3_request_duration_seconds_bucket', { operation: op });
    const les = buckets.map((b) => (b.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(b.labels.le)));
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(les[i]! > les[i - 1]!, `${op}: le ascending`);
      assert.ok(buckets[i]!.value >= buckets[i - 1]!.value, `${op}: buckets cumulative`);
    }
    assert.equal(buckets.at(-1)?.labels.le, '+Inf', `${op}: ends with +Inf`);
    const count = value(s, 'strata_s3_request_duration_seconds_count', { operation: op });
    assert.equal(buckets.at(-1)!.value, count, `${op}: +Inf == _count`);
    const requests = find(s, 'strata_s3_requests_total', { operation: op }).reduce((n, x) => n + x.value, 0);
    assert.equal(count, requests, `${op}: _count == requests`);
    const sum = value(s, 'strata_s3_request_duration_seconds_sum', { operation: op });
    assert.ok(sum > 0 && sum <= maxSum, `${op}: _sum ${sum} within (0, ${maxSum}]`);
  }
}
