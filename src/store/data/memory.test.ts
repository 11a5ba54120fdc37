// MemoryDataStore: the shared data-store contract.

import { runDataStoreContract } from '../contract-data.js';
import { MemoryDataStore } from './memory.js';

runDataStoreContract('memory', () => new MemoryDataStore());
