// MemoryDataStore: the shared data-store contract.

import { runDataStoreContract } from '../contract.js';
import { MemoryDataStore } from './memory.js';

runDataStoreContract('memory', () => new MemoryDataStore());
