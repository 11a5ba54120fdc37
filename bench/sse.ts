// The encryption cells of `npm run bench` (docs/performance.md, "Encryption at rest"): 4 KiB and
// 64 MiB PUT and GET of objects stored in the clear, with SSE-S3 (the built-in key service: a data
// key per object, wrapped under the bench's root key) and, in full mode, with SSE-C (the customer's
// key in every request's headers), interleaved round by round in one group per operation; each
// encrypted cell against its plain twin (target 'same': SSE-S3 4 KiB ≥ 0.80×, 64 MiB ≥ 0.70×, the
// issue's targets; SSE-C is held to the same). Strata only. The SSE headers are signed into the
// presigned targets, as S3 requires of every x-amz-* header.
import { createHash } from 'node:crypto';
import type { LoadResult } from './client.js';
import { buildHead, requestOnce } from './client.js';
import type { Cell } from './cells.js';
import type { Mode } from './options.js';
import type { Ctx, LoadSpec, Side } from './sides.js';
import type { Target } from './targets.js';
import { objectPath, presign, signHeaders } from './sign.js';

const KiB = 1024;
const MiB = 1024 * 1024;
const HOST = '127.0.0.1';
const BUCKET = 'sse-bench';

/** The bench server's key service root key (MinIO's NAME:BASE64 form) and SSE-C key: fixed, bench-only. */
const ROOT_KEY = Buffer.alloc(32, 0x5a);
const KMS_KEY_NAME = 'bench-key';
const CUSTOMER_KEY = Buffer.alloc(32, 0xc3);

/** What the cells use of run.ts (passed in: run.ts is the entry point, so no import cycle). */
export interface SseHelpers {
  load(ctx: Ctx, side: Side, spec: LoadSpec): Promise<LoadResult>;
  once(side: Side, key: string, fn: () => Promise<void>): Promise<void>;
  bodyOf(size: number): Buffer;
  wrkOrNode(ctx: Ctx): 'wrk' | 'node';
  perSecond(r: LoadResult): number;
}

export type Kind = 'plain' | 's3' | 'c';

/** The request headers of each kind (a PUT's; a GET sends only SSE-C's: SSE-S3 objects open without any). */
export function headersOf(kind: Kind, method: 'GET' | 'PUT'): Record<string, string> {
  if (kind === 's3') return method === 'PUT' ? { 'x-amz-server-side-encryption': 'AES256' } : {};
  if (kind === 'c') {
    return {
      'x-amz-server-side-encryption-customer-algorithm': 'AES256',
      'x-amz-server-side-encryption-customer-key': CUSTOMER_KEY.toString('base64'),
      'x-amz-server-side-encryption-customer-key-md5': createHash('md5').update(CUSTOMER_KEY).digest('base64'),
    };
  }
  return {};
}

/** The response header that proves the kind's encryption (a refused or ignored header fails the cell). */
const PROOF: Record<Kind, RegExp | undefined> = {
  plain: undefined,
  s3: /\r\nx-amz-server-side-encryption:\s*AES256\r\n/i,
  c: /\r\nx-amz-server-side-encryption-customer-algorithm:\s*AES256\r\n/i,
};

/** Strata's arguments when SSE cells run: the key service with the bench's root key, SSE-C over plain HTTP (loopback). */
export function sseServerArgs(cells: readonly Cell[]): string[] {
  return cells.some((c) => c.id.startsWith('sse-')) ? [...SSE_SERVER_ARGS] : [];
}

/** The key service with the bench's root key, SSE-C over plain HTTP (also bench/sse-cost.ts). */
export const SSE_SERVER_ARGS: readonly string[] = ['--kms-secret-key', `${KMS_KEY_NAME}:${ROOT_KEY.toString('base64')}`, '--sse-c-over-http', 'yes'];

/** One header-signed request with the kind's headers; throws unless 2xx and (encrypted kinds) the response says it is encrypted. */
async function control(side: Side, method: 'PUT' | 'GET', key: string, kind: Kind, body?: Buffer): Promise<void> {
  const { target, headers } = signHeaders(side.creds!, side.hostHeader, method, objectPath(BUCKET, key), [], Date.now(), undefined, headersOf(kind, method));
  const res = await requestOnce(HOST, side.port, {
    head: buildHead(method, target, side.hostHeader, headers, method === 'PUT' ? (body?.length ?? 0) : undefined),
    body: body ? [body] : undefined,
    keepBody: true,
  });
  const text = res.body?.toString('utf8', 0, 300) ?? '';
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${BUCKET}/${key} (${kind}): HTTP ${res.status} ${text}`);
  const proof = PROOF[kind];
  if (proof && !proof.test(`\r\n${res.headerText ?? ''}\r\n`))
    throw new Error(`${method} ${BUCKET}/${key} (${kind}): the response does not say it is encrypted`);
}

const sizeLabel = (size: number) => (size >= MiB ? `${size / MiB} MiB` : `${size / KiB} KiB`);
const sizeId = (size: number) => (size >= MiB ? `${size / MiB}m` : `${size / KiB}k`);
const KIND_TITLE: Record<Kind, string> = { plain: 'stored in the clear', s3: 'SSE-S3 (built-in key service)', c: 'SSE-C (customer key headers)' };

function sseCell(d: SseHelpers, method: 'GET' | 'PUT', size: number, kind: Kind, c: number, modes: Mode[], goal?: Target): Cell {
  const big = size >= MiB;
  const key = `${method.toLowerCase()}-${sizeId(size)}-${kind}`;
  return {
    id: `sse-${method.toLowerCase()}-${sizeId(size)}-${kind}-c${c}`,
    title: `${method} ${sizeLabel(size)}${method === 'PUT' ? ' one key' : ''}, c${c}, ${KIND_TITLE[kind]}`,
    unit: big ? 'MiB/s' : 'req/s',
    modes,
    group: `sse-${method.toLowerCase()}-${sizeId(size)}`,
    target: goal,
    nginx: false,
    tool: d.wrkOrNode,
    async run(ctx, side, _round, measured) {
      if (side.name !== 'strata') return undefined;
      await d.once(side, `${BUCKET}/${key}`, async () => {
        await d.once(side, BUCKET, async () => {
          const { target, headers } = signHeaders(side.creds!, side.hostHeader, 'PUT', objectPath(BUCKET));
          const res = await requestOnce(HOST, side.port, { head: buildHead('PUT', target, side.hostHeader, headers, 0), keepBody: true });
          if (res.status !== 200 && res.status !== 409) throw new Error(`CreateBucket ${BUCKET}: HTTP ${res.status}`);
        });
        // PUT cells: one PUT first shows the headers are taken (and encrypt); GET cells: the object read.
        await control(side, 'PUT', key, kind, d.bodyOf(size));
        if (method === 'GET') await control(side, 'GET', key, kind);
      });
      const headers = headersOf(kind, method);
      const spec: LoadSpec = {
        method,
        paths: [presign(side.creds!, side.hostHeader, method, objectPath(BUCKET, key), [], undefined, undefined, headers)],
        headers,
        concurrency: c,
        bodySize: method === 'PUT' ? size : 0,
        durationS: ctx.opts.durationS,
      };
      const r = await measured(() => d.load(ctx, side, spec));
      // A refused request would be measured as a cheap one: any error fails the cell.
      if (r.errors > 0) throw new Error(`${method} ${sizeLabel(size)} ${kind}: ${r.errors} errors (${JSON.stringify(r.statuses)})`);
      return { value: big ? (r.ops * size) / MiB / r.elapsedS : d.perSecond(r), load: r };
    },
  };
}

/** PUT and GET of 4 KiB (c16) and 64 MiB (c2): plain, SSE-S3, SSE-C (full mode), each group interleaved. */
export function sseCells(d: SseHelpers): Cell[] {
  const FQ: Mode[] = ['full', 'quick'];
  const F: Mode[] = ['full'];
  const of = (plain: string, min: number): Target => ({ kind: 'same', sameAs: plain, min, text: `≥ ${min.toFixed(2)}× ${plain}` });
  const cells: Cell[] = [];
  for (const [size, c, min] of [
    [4 * KiB, 16, 0.8],
    [64 * MiB, 2, 0.7],
  ] as const) {
    for (const method of ['PUT', 'GET'] as const) {
      const plain = `sse-${method.toLowerCase()}-${sizeId(size)}-plain-c${c}`;
      cells.push(sseCell(d, method, size, 'plain', c, FQ));
      cells.push(sseCell(d, method, size, 's3', c, FQ, of(plain, min)));
      cells.push(sseCell(d, method, size, 'c', c, F, of(plain, min)));
    }
  }
  return cells;
}
