import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { GROWTH, guardStep, startMemoryGuard } from './memory-guard.js';

describe('memory guard', () => {
  it('a scavenge only when the external bytes grew by more than GROWTH since the last look; follows them down', () => {
    let external = 100;
    const calls: unknown[] = [];
    const step = guardStep(
      (o) => {
        calls.push(o);
        external -= GROWTH; // the collection freed the dead buffers
      },
      () => external,
    );
    external += GROWTH; // exactly GROWTH: not more
    step();
    assert.equal(calls.length, 0);
    external += 1;
    step();
    assert.deepEqual(calls, [{ type: 'minor' }]);
    // Down, then up by less than GROWTH from the new low: nothing.
    external = 50;
    step();
    external = 50 + GROWTH;
    step();
    assert.equal(calls.length, 1);
    external += 2;
    step();
    assert.equal(calls.length, 2);
  });

  it('starts in this Node (V8 hands out gc at run time) and stops', () => {
    assert.equal(typeof getHeapStatistics().external_memory, 'number');
    const stop = startMemoryGuard();
    assert.equal(typeof stop, 'function');
    stop();
  });
});
