// Contract for small objects stored inline in the metadata store (ObjectRecord.inline): every
// MetaStore implementation's test file runs it next to runMetaStoreContract.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { objectRecord, type Maybe } from './contract.js';
import type { MetaStore } from './types.js';

export interface InlineHarness {
  store: MetaStore;
  /** Closes the store and opens a new one on the same file (persistent stores only). */
  reopen?: () => Maybe<MetaStore>;
  dispose?: () => Maybe<void>;
}

export function runInlineContract(name: string, newStore: () => Maybe<InlineHarness>): void {
  describe(`MetaStore inline objects: ${name}`, () => {
    let h: InlineHarness;
    let s: MetaStore;
    const inlineRecord = (key: string, text: string) => objectRecord('b1', key, { size: Buffer.byteLength(text), data: [], inline: Buffer.from(text) });

    beforeEach(async () => {
      h = await newStore();
      s = h.store;
      await s.createBucket({ name: 'b1', region: 'us-east-1', createdAt: 1_700_000_000_000, versioning: '', owner: 'root', objectLock: false });
    });
    afterEach(async () => {
      await s.close();
      await h.dispose?.();
    });

    it('PutObject with inline bytes → GetObject returns them, no data pieces; ScanObjects carries no bytes', async () => {
      await s.putObject(inlineRecord('small', 'hello inline'));
      const got = await s.getObject('b1', 'small');
      assert.ok(got);
      assert.deepEqual(got.data, []);
      assert.ok(Buffer.isBuffer(got.inline), 'inline bytes come back as a Buffer');
      assert.equal(got.inline.toString(), 'hello inline');
      assert.equal(got.size, 12);
      const [listed] = await s.scanObjects('b1', '', '', 10);
      assert.equal(listed?.key, 'small');
      assert.equal(listed?.size, 12);
      assert.equal(listed?.inline, undefined);
    });

    it('GetObject without bytes (HEAD) → the metadata, size kept, no inline bytes read', async () => {
      await s.putObject(inlineRecord('small', 'twelve bytes'));
      const got = await s.getObject('b1', 'small', undefined, false);
      assert.equal(got?.size, 12);
      assert.deepEqual(got?.data, []);
      assert.equal(got?.inline, undefined);
    });

    it('Replace inline ↔ piece → the right data to free each way, GetObject follows', async () => {
      await s.putObject(inlineRecord('k', 'first'));
      const piece = objectRecord('b1', 'k');
      assert.deepEqual(await s.putObject(piece), [], 'replacing inline bytes frees no piece');
      let got = await s.getObject('b1', 'k');
      assert.equal(got?.inline, undefined);
      assert.deepEqual(got?.data, piece.data);
      assert.deepEqual(await s.putObject(inlineRecord('k', 'third')), piece.data, 'replacing a piece frees it');
      assert.equal(await s.isDataReferenced(piece.data[0]!.id), false);
      got = await s.getObject('b1', 'k');
      assert.equal(got?.inline?.toString(), 'third');
      assert.deepEqual(got?.data, []);
    });

    it('DeleteObject → bytes gone with the record; the key can be written again; the bucket can be deleted', async () => {
      await s.putObject(inlineRecord('k', 'abc'));
      const removed = await s.deleteObject('b1', 'k');
      assert.equal(removed?.key, 'k');
      assert.deepEqual(removed?.data, []);
      assert.equal(await s.getObject('b1', 'k'), undefined);
      await s.putObject(inlineRecord('k', 'again'));
      assert.equal((await s.getObject('b1', 'k'))?.inline?.toString(), 'again');
      await s.deleteObject('b1', 'k');
      await s.deleteBucket('b1');
      assert.equal(await s.getBucket('b1'), undefined);
    });

    it('Inline bytes that are not the whole object, or next to pieces → refused, nothing stored', async () => {
      await assert.rejects(async () => s.putObject(objectRecord('b1', 'bad1', { size: 5, data: [], inline: Buffer.from('abc') })));
      await assert.rejects(async () => s.putObject(objectRecord('b1', 'bad2', { size: 3, inline: Buffer.from('abc') })));
      assert.equal(await s.getObject('b1', 'bad1'), undefined);
      assert.equal(await s.getObject('b1', 'bad2'), undefined);
    });

    it('Returned bytes are a copy: changing them does not change the stored object', async () => {
      const rec = inlineRecord('k', 'stable');
      await s.putObject(rec);
      rec.inline!.fill(0x21);
      const got = await s.getObject('b1', 'k');
      got!.inline!.fill(0x22);
      assert.equal((await s.getObject('b1', 'k'))?.inline?.toString(), 'stable');
    });

    it('Binary bytes (all 256 values, 128 KiB) round-trip exactly', async () => {
      const bytes = Buffer.alloc(128 * 1024);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + (i >> 8)) & 0xff;
      await s.putObject(objectRecord('b1', 'bin', { size: bytes.length, data: [], inline: Buffer.from(bytes) }));
      assert.ok((await s.getObject('b1', 'bin'))?.inline?.equals(bytes));
      if (h.reopen) {
        s = await h.reopen();
        assert.ok((await s.getObject('b1', 'bin'))?.inline?.equals(bytes), 'and survive a restart');
      }
    });
  });
}
