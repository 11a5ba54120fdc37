#!/usr/bin/env node
// In-process CPU per audit record (docs/performance.md, "Audit log"): building a record from an
// access line, and delivering records through the file and the webhook targets (a local receiver in
// a child process), fed 20 records per millisecond like a busy server; the loop's own cost (the same
// timers without records) is subtracted. `--ipc`: also a forked worker's batching to this process
// (ForwardSink → LocalSink with a file), each side's CPU.
//   node dist/bench/audit-micro.js [--ipc]
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type AuditMessage, ForwardSink } from '../src/audit/cluster.js';
import { auditLine, factsOfAccess } from '../src/audit/record.js';
import { type AuditSink, LocalSink } from '../src/audit/sink.js';
import type { Principal } from '../src/iam/principal.js';

const N = 60_000;
const PER_MS = 20;
const log = { warn: (o: object, m: string) => process.stderr.write(`${m} ${JSON.stringify(o)}\n`), info: () => undefined };
const ROOT: Principal = Object.freeze({ accessKeyId: 'rustfsadmin', userId: 'root', kind: 'root' });
const LINE = {
  reqId: 'CCCE824600000003',
  op: 'GetObject',
  method: 'GET',
  bucket: 'bench',
  key: 'k',
  status: 200,
  bytesIn: 0,
  bytesOut: 4096,
  ms: 1,
  remoteAddress: '127.0.0.1',
  userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux#6.1 lang/js md/nodejs#20.19.0 api/s3#3.700.0',
};
const record = () => auditLine(factsOfAccess('s3', LINE, { startedAt: Date.now(), principal: ROOT }));
const cpuUs = (u: NodeJS.CpuUsage) => u.user + u.system;

/** µs of CPU per record to push N records into `sink` at PER_MS a millisecond and deliver them all. */
async function feed(sink: AuditSink): Promise<number> {
  const line = record();
  const paced = (write: boolean) =>
    new Promise<void>((ok) => {
      let sent = 0;
      const tick = () => {
        if (write) for (let i = 0; i < PER_MS; i++) sink.write(line);
        sent += PER_MS;
        if (sent < N) setTimeout(tick, 1);
        else ok();
      };
      tick();
    });
  const c0 = process.cpuUsage();
  await paced(true);
  await sink.close(Date.now() + 60_000);
  const used = cpuUs(process.cpuUsage(c0));
  const b0 = process.cpuUsage();
  await paced(false);
  return (used - cpuUs(process.cpuUsage(b0))) / N;
}

async function main(): Promise<void> {
  if (process.argv[2] === '--ipc-child') {
    const sink = new ForwardSink((m, done) => process.send!(m, undefined, {}, done), 1_000_000, log);
    process.send!({ workerUs: await feed(sink) });
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'strata-audit-micro-'));
  try {
    let n = 0;
    const t0 = process.cpuUsage();
    for (let i = 0; i < 200_000; i++) n += record().length;
    process.stdout.write(`build a record: ${(cpuUs(process.cpuUsage(t0)) / 200_000).toFixed(2)} µs (${n / 200_000} bytes)\n`);
    const file = await feed(new LocalSink({ queueMax: 1_000_000, file: { path: join(dir, 'a.log'), maxBytes: 1 << 30, keep: 1 } }, log));
    process.stdout.write(`file target: ${file.toFixed(2)} µs per record\n`);
    // The receiver in this process would count its CPU as the target's: it runs in a child.
    const child = fork(fileURLToPath(import.meta.url), ['--receiver']);
    const port = await new Promise<number>((ok) => child.once('message', (p) => ok(p as number)));
    const hook = await feed(new LocalSink({ queueMax: 1_000_000, webhook: { url: `http://127.0.0.1:${port}/`, timeoutMs: 10_000 } }, log));
    child.kill();
    process.stdout.write(`webhook target: ${hook.toFixed(2)} µs per record\n`);
    if (process.argv.includes('--ipc')) {
      const primary = new LocalSink({ queueMax: 1_000_000, file: { path: join(dir, 'ipc.log'), maxBytes: 1 << 30, keep: 1 } }, log);
      const worker = fork(fileURLToPath(import.meta.url), ['--ipc-child']);
      const c0 = process.cpuUsage();
      const workerUs = await new Promise<number>((ok) =>
        worker.on('message', (m: Partial<AuditMessage> & { workerUs?: number }) => {
          if (m.strata === 'audit' && m.lines !== undefined) primary.writeLines(m.lines);
          else if (m.workerUs !== undefined) ok(m.workerUs);
        }),
      );
      await primary.close(Date.now() + 60_000);
      process.stdout.write(
        `workers: ${workerUs.toFixed(2)} µs per record in the worker, ${(cpuUs(process.cpuUsage(c0)) / N).toFixed(2)} in the primary (its idle wait included)\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--receiver') {
  const s = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  }).listen(0, '127.0.0.1', () => process.send!((s.address() as AddressInfo).port));
} else await main();
