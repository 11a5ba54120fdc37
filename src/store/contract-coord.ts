// The Coordination contract (coord.ts): leases, write intents and the sweep cutoff, pending frees
// with pins. Each implementation's test file calls runCoordinationContract.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Coordination } from './coord.js';

export function runCoordinationContract(name: string, open: () => Promise<{ c: Coordination; close: () => Promise<void> }>): void {
  describe(`Coordination (${name})`, () => {
    it('tryLease › free or expired → taken; held by another → refused; own → renewed; released → free', async () => {
      const { c, close } = await open();
      assert.equal(await c.tryLease('l', 'a', 1000, 100), true);
      assert.equal(await c.tryLease('l', 'b', 1050, 100), false);
      assert.equal(await c.tryLease('l', 'a', 1090, 100), true, 'renewed by its owner');
      assert.equal(await c.tryLease('l', 'b', 1150, 100), false, 'the renewal pushed the expiry');
      assert.equal(await c.leaseHolder('l', 1150), 'a');
      assert.equal(await c.tryLease('l', 'b', 1190, 100), true, 'expired');
      await c.releaseLease('l', 'a'); // not the holder: no effect
      assert.equal(await c.leaseHolder('l', 1200), 'b');
      await c.releaseLease('l', 'b');
      assert.equal(await c.leaseHolder('l', 1200), undefined);
      await close();
    });

    it('oldestIntent › the oldest live intent; expired and removed ones do not count', async () => {
      const { c, close } = await open();
      assert.equal(await c.oldestIntent(1000), undefined);
      await c.addIntent('i1', 'p', 1000, 100);
      await c.addIntent('i2', 'p', 1050, 100);
      assert.equal(await c.oldestIntent(1060), 1000);
      assert.equal(await c.oldestIntent(1120), 1050, 'i1 expired');
      await c.renewIntents(['i1'], 1120, 100);
      assert.equal(await c.oldestIntent(1130), 1000, 'renewed');
      await c.removeIntent('i1');
      assert.equal(await c.oldestIntent(1130), 1050);
      await close();
    });

    it('takeDueFrees › only frees past the due time, not pinned by a live pin, not kept locally', async () => {
      const { c, close } = await open();
      await c.addPendingFrees(['a', 'b', 'c', 'd'], 1000);
      await c.addPendingFrees(['a'], 5000); // an earlier time is kept
      await c.pin('p1', ['b'], 3000);
      await c.pin('p2', ['c'], 1500);
      assert.deepEqual(await c.takeDueFrees(900, 2000, 10, () => false), [], 'not due yet');
      assert.deepEqual((await c.takeDueFrees(1000, 2000, 10, (id) => id === 'd')).sort(), ['a', 'c'], 'b pinned, c pin expired, d kept');
      assert.equal(await c.pendingFrees(), 2);
      await c.unpin('p1');
      assert.deepEqual((await c.takeDueFrees(1000, 2000, 10, () => false)).sort(), ['b', 'd']);
      assert.equal(await c.pendingFrees(), 0);
      await close();
    });

    it('clearProcesses › leases, intents and pins gone; pending frees stay', async () => {
      const { c, close } = await open();
      await c.tryLease('l', 'a', 1000, 100_000);
      await c.addIntent('i', 'a', 1000, 100_000);
      await c.pin('p', ['x'], 100_000);
      await c.addPendingFrees(['x'], 1000);
      await c.clearProcesses();
      assert.equal(await c.leaseHolder('l', 1001), undefined);
      assert.equal(await c.oldestIntent(1001), undefined);
      assert.deepEqual(await c.takeDueFrees(1000, 1001, 10, () => false), ['x']);
      await close();
    });
  });
}
