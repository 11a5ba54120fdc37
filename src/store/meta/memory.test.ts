// MemoryMetaStore: the shared contract plus its byte-seek extension.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectRecord, runMetaStoreContract } from '../contract.js';
import { runInlineContract } from '../contract-inline.js';
import { MemoryMetaStore } from './memory.js';

runMetaStoreContract('memory', () => new MemoryMetaStore());
runInlineContract('memory', () => ({ store: new MemoryMetaStore() }));

describe('MemoryMetaStore', () => {
  it('ScanObjects › `from` as raw bytes (not valid UTF-8) → seeks by bytes', () => {
    const s = new MemoryMetaStore();
    s.createBucket({ name: 'b', region: 'r', createdAt: 0, versioning: '', owner: 'root' });
    for (const k of ['d', 'é', 'ê', 'z']) s.putObject(objectRecord('b', k));
    // 0xC3 alone is an incomplete sequence: every key starting with byte C3 sorts after it.
    assert.deepEqual(s.scanObjects('b', '', '', 10, Buffer.from([0xc3])).map((r) => r.key), ['é', 'ê']);
    assert.deepEqual(s.scanObjects('b', '', Buffer.from([0xc3, 0xa9]), 10).map((r) => r.key), ['ê']);
  });
});
