// memoryMetaStore (SQLite in `:memory:`): the shared contract, as the tests that use it see it.

import { runMetaStoreContract } from '../contract.js';
import { runUploadsContract } from '../contract-uploads.js';
import { runInlineContract } from '../contract-inline.js';
import { runVersionsContract } from '../contract-versions.js';
import { runIdentitiesContract } from '../contract-identities.js';
import { runUsageContract } from '../contract-usage.js';
import { runKmsKeysContract } from '../contract-kms.js';
import { runHealQueueContract } from '../contract-heal.js';
import { memoryMetaStore } from './memory.js';

runMetaStoreContract('sqlite :memory:', () => memoryMetaStore());
runUploadsContract('sqlite :memory:', () => memoryMetaStore());
runInlineContract('sqlite :memory:', () => ({ store: memoryMetaStore() }));
runVersionsContract('sqlite :memory:', () => memoryMetaStore());
runIdentitiesContract('sqlite :memory:', () => memoryMetaStore());
runUsageContract('sqlite :memory:', () => memoryMetaStore());
runKmsKeysContract('sqlite :memory:', async () => {
  const m = memoryMetaStore();
  return { keys: m.kmsKeys, close: () => m.close() };
});
runHealQueueContract('sqlite :memory:', async () => {
  const m = memoryMetaStore();
  return { queue: m.healQueue, close: () => m.close() };
});
