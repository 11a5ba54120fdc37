// Behavioural contract every DataStore implementation must meet (MetaStore: contract.ts). Each
// implementation's test file calls runDataStoreContract with a factory for fresh stores.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { toHarness, type Maybe } from './contract.js';
import { PieceError } from './errors.js';
import type { DataRef, DataStore } from './types.js';

export interface DataHarness {
  store: DataStore;
  /** Closes the store and opens a new one on the same directory (persistent stores only). */
  reopen?: () => Maybe<DataStore>;
  /** Files currently in the temporary and committed areas (disk stores). */
  leftovers?: () => Promise<{ temp: number; committed: number }>;
  /** Leaves a file in the temporary area as an interrupted write would (disk stores). */
  plantTemp?: () => Promise<void>;
  dispose?: () => Maybe<void>;
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(chunks);
}

async function* chunksOf(...parts: Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

export function runDataStoreContract(name: string, newStore: () => Maybe<DataStore | DataHarness>, opts: { persistent?: boolean } = {}): void {
  const persistentIt = opts.persistent ? it : () => undefined;
  describe(`DataStore contract: ${name}`, () => {
    let h: DataHarness;
    let s: DataStore;
    beforeEach(async () => {
      h = toHarness<DataStore, DataHarness>(await newStore());
      s = h.store;
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    /** After a failed write: no committed piece, nothing in the temporary area. */
    async function assertNothingLeft(): Promise<void> {
      assert.deepEqual(await collect(s.listIds(Date.now() + 60_000)), []);
      if (h.leftovers) assert.deepEqual(await h.leftovers(), { temp: 0, committed: 0 });
    }

    it('Write › several chunks → Read returns the same bytes', async () => {
      const ref = await s.write(chunksOf(Buffer.from('hello '), Buffer.from('world')));
      assert.equal(ref.size, 11);
      assert.equal((await readAll(s.read(ref))).toString(), 'hello world');
    });

    it('Write › empty source → a 0-byte piece', async () => {
      const ref = await s.write(chunksOf());
      assert.equal(ref.size, 0);
      assert.equal((await readAll(s.read(ref))).length, 0);
    });

    it('Write › 3 MiB in odd chunk sizes → round-trips; ids are unique', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      async function* odd() {
        for (let off = 0; off < big.length; off += 65_537) yield big.subarray(off, off + 65_537);
      }
      const a = await s.write(odd());
      const b = await s.write(odd());
      assert.notEqual(a.id, b.id);
      assert.equal(a.size, big.length);
      assert.ok((await readAll(s.read(a))).equals(big));
    });

    it('Read › range → bytes start..end inclusive', async () => {
      const ref = await s.write(chunksOf(Buffer.from('0123456789')));
      assert.equal((await readAll(s.read(ref, { start: 2, end: 5 }))).toString(), '2345');
      assert.equal((await readAll(s.read(ref, { start: 9, end: 9 }))).toString(), '9');
      assert.equal((await readAll(s.read(ref, { start: 0, end: 9 }))).toString(), '0123456789');
    });

    it('Remove › piece gone (read fails); removing again or a missing id is fine', async () => {
      const ref = await s.write(chunksOf(Buffer.from('x')));
      await s.remove(ref.id);
      await assert.rejects(readAll(s.read(ref)));
      await s.remove(ref.id);
      assert.deepEqual(await collect(s.listIds(Date.now() + 60_000)), []);
    });

    it("Read › the record's size is checked: a ref of another size → PieceError length; a removed piece → PieceError missing", async () => {
      const ref = await s.write(chunksOf(Buffer.from('0123456789')));
      const fault = async (r: DataRef) => {
        try {
          await readAll(s.read(r));
        } catch (err) {
          assert.ok(err instanceof PieceError, String(err));
          assert.equal(err.dataId, ref.id);
          return err.fault;
        }
        return 'read';
      };
      assert.equal(await fault({ id: ref.id, size: 9 }), 'length');
      assert.equal(await fault({ id: ref.id, size: 11 }), 'length');
      await s.remove(ref.id);
      assert.equal(await fault(ref), 'missing');
    });

    it('ListIds › yields committed pieces created before the bound', async () => {
      const a = await s.write(chunksOf(Buffer.from('a')));
      const b = await s.write(chunksOf(Buffer.from('b')));
      assert.deepEqual((await collect(s.listIds(Date.now() + 60_000))).sort(), [a.id, b.id].sort());
      assert.deepEqual(await collect(s.listIds(0)), []);
    });

    it('Write › source throws midway → the error is rethrown and nothing remains', async () => {
      const boom = new Error('boom');
      async function* failing() {
        yield Buffer.alloc(100_000, 1);
        throw boom;
      }
      await assert.rejects(s.write(failing()), (e) => e === boom);
      await assertNothingLeft();
    });

    it('Write › signal aborts while the source waits → rejects with the reason, nothing remains', async () => {
      const ac = new AbortController();
      async function* hanging() {
        yield Buffer.alloc(1000, 1);
        ac.abort(new Error('client went away'));
        await new Promise(() => {}); // never resolves: the store must not wait for it
      }
      await assert.rejects(s.write(hanging(), ac.signal), /client went away/);
      await assertNothingLeft();
    });

    it('Write › signal already aborted → rejects, nothing remains', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(s.write(chunksOf(Buffer.from('x')), ac.signal), { name: 'AbortError' });
      await assertNothingLeft();
    });

    it('SweepTemp › removes leftovers of interrupted writes, keeps committed pieces', async () => {
      const ref = await s.write(chunksOf(Buffer.from('kept')));
      if (h.plantTemp) {
        await h.plantTemp();
        await h.plantTemp();
        assert.equal(await s.sweepTemp(), 2);
      }
      assert.equal(await s.sweepTemp(), 0);
      assert.equal((await readAll(s.read(ref))).toString(), 'kept');
    });

    persistentIt('Restart › close and reopen → committed pieces kept', async () => {
      assert.ok(h.reopen, 'a persistent store harness must provide reopen()');
      const ref = await s.write(chunksOf(Buffer.from('durable')));
      s = await h.reopen!();
      assert.equal((await readAll(s.read(ref))).toString(), 'durable');
      assert.deepEqual(await collect(s.listIds(Date.now() + 60_000)), [ref.id]);
    });
  });
}
