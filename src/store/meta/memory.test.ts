// memoryMetaStore (SQLite in `:memory:`): the shared contract, as the tests that use it see it.

import { runMetaStoreContract } from '../contract.js';
import { runUploadsContract } from '../contract-uploads.js';
import { runInlineContract } from '../contract-inline.js';
import { runVersionsContract } from '../contract-versions.js';
import { runIdentitiesContract } from '../contract-identities.js';
import { runUsageContract } from '../contract-usage.js';
import { memoryMetaStore } from './memory.js';

runMetaStoreContract('sqlite :memory:', () => memoryMetaStore());
runUploadsContract('sqlite :memory:', () => memoryMetaStore());
runInlineContract('sqlite :memory:', () => ({ store: memoryMetaStore() }));
runVersionsContract('sqlite :memory:', () => memoryMetaStore());
runIdentitiesContract('sqlite :memory:', () => memoryMetaStore());
runUsageContract('sqlite :memory:', () => memoryMetaStore());
