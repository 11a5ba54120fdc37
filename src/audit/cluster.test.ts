// A worker's audit sink: records reach the primary in batches (at most FORWARD_BATCH per message,
// or after a short wait), bounded while the channel is busy, everything sent on close; the primary's
// side splits the messages back into records.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type AuditMessage, ForwardSink } from './cluster.js';
import { LocalSink } from './sink.js';

const log = { warn: () => undefined, info: () => undefined };
const line = (i: number) => `{"n":${i}}\n`;
const dir = mkdtempSync(join(tmpdir(), 'strata-audit-cluster-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('ForwardSink (worker → primary)', () => {
  it('250 records → 3 messages (100, 100, then 50 after the short wait), in order; close waits for the acknowledgements', async () => {
    const messages: AuditMessage[] = [];
    const sink = new ForwardSink((m, done) => (messages.push(m), setImmediate(() => done(null))), 10_000, log);
    for (let i = 0; i < 250; i++) sink.write(line(i));
    assert.equal(messages.length, 2);
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(messages.length, 3);
    assert.equal(messages.map((m) => m.lines).join(''), Array.from({ length: 250 }, (_, i) => line(i)).join(''));
    assert.ok(messages.every((m) => m.strata === 'audit'));
  });

  it('a busy channel: at most 16 messages unacknowledged, the rest held (bounded, oldest dropped, counted); close sends what is held', async () => {
    const pending: Array<() => void> = [];
    const messages: AuditMessage[] = [];
    const sink = new ForwardSink((m, done) => (messages.push(m), pending.push(() => done(null))), 500, log);
    for (let i = 0; i < 2100; i++) sink.write(line(i)); // 16 messages of 100 go out, 500 held at most
    assert.equal(messages.length, 16);
    assert.equal(sink.dropped, 2100 - 1600 - 500);
    const closing = sink.close(Date.now() + 5000);
    for (let i = 0; i < 100 && (pending.length > 0 || messages.length < 21); i++) {
      for (const p of pending.splice(0)) p();
      await new Promise((r) => setTimeout(r, 5));
    }
    await closing;
    const got = messages.map((m) => m.lines).join('');
    const want = [...Array.from({ length: 1600 }, (_, i) => line(i)), ...Array.from({ length: 500 }, (_, i) => line(1600 + i))].join('');
    assert.equal(got, want);
  });

  it("the primary's LocalSink takes a message's lines as records (file target)", async () => {
    const path = join(dir, 'audit.log');
    const sink = new LocalSink({ queueMax: 1000, file: { path, maxBytes: 1 << 20, keep: 1 } }, log);
    sink.writeLines(line(1) + line(2) + line(3));
    await sink.close(Date.now() + 5000);
    assert.equal(readFileSync(path, 'utf8'), line(1) + line(2) + line(3));
  });
});
