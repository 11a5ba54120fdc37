// The audit delivery queue: batches in order, bounded with drop-oldest (counted, logged once per
// period), retries with backoff keeping order, partial deliveries not repeated, drain at shutdown.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeliveryQueue, PartialDelivery } from './queue.js';

function quietLog() {
  const lines: Array<{ msg: string; obj: Record<string, unknown> }> = [];
  const note = (obj: object, msg: string) => void lines.push({ msg, obj: obj as Record<string, unknown> });
  return { lines, log: { warn: note, info: note } };
}

const line = (i: number) => `{"n":${i}}\n`;
const waitFor = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), `waiting for ${what}`);
};

describe('DeliveryQueue', () => {
  it('delivers every record once, in order, in batches of at most maxBatch', async () => {
    const batches: string[][] = [];
    const { log } = quietLog();
    const q = new DeliveryQueue({ name: 't', maxQueued: 1000, maxBatch: 7, log, send: async (b) => void batches.push([...b]) });
    for (let i = 0; i < 50; i++) q.push(line(i));
    assert.equal(await q.drain(Date.now() + 5000), 0);
    assert.deepEqual(
      batches.flat(),
      Array.from({ length: 50 }, (_, i) => line(i)),
    );
    assert.ok(batches.every((b) => b.length <= 7 && b.length > 0));
    assert.equal(q.delivered, 50);
    assert.equal(q.dropped, 0);
  });

  it('full: the oldest queued records are dropped and counted, one log line per period; the batch in flight is kept', async () => {
    let release: () => void = () => undefined;
    let sending = 0;
    const sent: string[] = [];
    const { log, lines } = quietLog();
    const q = new DeliveryQueue({
      name: 't',
      maxQueued: 10,
      maxBatch: 3,
      log,
      send: (b) =>
        new Promise<void>((ok) => {
          sending++;
          release = () => {
            sent.push(...b);
            ok();
          };
        }),
    });
    q.push(line(0));
    await waitFor(() => sending === 1, 'the first batch in flight');
    for (let i = 1; i <= 25; i++) q.push(line(i)); // 25 queued behind the batch in flight: 15 too many
    assert.equal(q.dropped, 15);
    assert.equal(q.pending, 11);
    const drops = lines.filter((l) => l.msg.includes('dropping the oldest'));
    assert.equal(drops.length, 1);
    assert.equal(drops[0]!.obj.dropped, 1);
    for (let i = 0; i < 20 && sent.length < 11; i++) {
      release();
      await new Promise((r) => setTimeout(r, 5));
    }
    // The record in flight, then the 10 newest.
    assert.deepEqual(sent, [line(0), ...Array.from({ length: 10 }, (_, i) => line(16 + i))]);
  });

  it('a failing target: the batch is retried with backoff until it is taken, order kept, one failure line then one "resumed"', async () => {
    let attempts = 0;
    const times: number[] = [];
    const got: string[] = [];
    const { log, lines } = quietLog();
    const q = new DeliveryQueue({
      name: 'hook',
      maxQueued: 100,
      maxBatch: 100,
      log,
      retryFirstMs: 10,
      retryMaxMs: 40,
      send: async (b) => {
        times.push(Date.now());
        if (++attempts <= 4) throw new Error('down');
        got.push(...b);
      },
    });
    for (let i = 0; i < 5; i++) q.push(line(i));
    await waitFor(() => got.length === 5, 'delivery after 4 failures');
    assert.deepEqual(got, [0, 1, 2, 3, 4].map(line));
    assert.equal(attempts, 5);
    // Waits of 10, 20, 40, 40 ms at least between the attempts (backoff, capped).
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    [10, 20, 40, 40].forEach((min, i) => assert.ok(gaps[i]! >= min - 2, `gap ${i} ${gaps[i]} >= ${min}`));
    assert.equal(lines.filter((l) => l.msg.includes('failed')).length, 1);
    assert.equal(lines.filter((l) => l.msg.includes('resumed')).length, 1);
  });

  it('a partial delivery: only the rest of the batch is retried (no record twice)', async () => {
    const got: string[] = [];
    let first = true;
    const { log } = quietLog();
    const q = new DeliveryQueue({
      name: 'file',
      maxQueued: 100,
      maxBatch: 100,
      log,
      retryFirstMs: 1,
      send: async (b) => {
        if (first) {
          first = false;
          got.push(...b.slice(0, 2));
          throw new PartialDelivery(2, new Error('ENOSPC'));
        }
        got.push(...b);
      },
    });
    for (let i = 0; i < 5; i++) q.push(line(i));
    assert.equal(await q.drain(Date.now() + 5000), 0);
    assert.deepEqual(got, [0, 1, 2, 3, 4].map(line));
    assert.equal(q.delivered, 5);
  });

  it('drain gives up at its deadline with what is still undelivered (a target that never answers)', async () => {
    const { log } = quietLog();
    const q = new DeliveryQueue({ name: 'hook', maxQueued: 100, maxBatch: 2, log, send: () => Promise.reject(new Error('down')), retryFirstMs: 5 });
    for (let i = 0; i < 5; i++) q.push(line(i));
    assert.equal(await q.drain(Date.now() + 100), 5);
  });
  it('linger: records pushed apart within lingerMs go in one batch; drain does not wait for the linger', async () => {
    const batches: string[][] = [];
    const { log } = quietLog();
    const q = new DeliveryQueue({ name: 't', maxQueued: 100, maxBatch: 50, lingerMs: 60_000, log, send: async (b) => void batches.push([...b]) });
    q.push(line(0));
    await new Promise((r) => setTimeout(r, 20));
    q.push(line(1));
    q.push(line(2));
    assert.equal(batches.length, 0, 'still lingering');
    assert.equal(await q.drain(Date.now() + 5000), 0);
    assert.deepEqual(batches, [[line(0), line(1), line(2)]]);
  });
});
