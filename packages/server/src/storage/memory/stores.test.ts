import { storeContract } from '../../../testing/store-contract.ts';
import { createMemoryStores } from '../../stores.ts';

storeContract('memory', async () => createMemoryStores());
