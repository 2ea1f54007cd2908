/** The guardrail replays over SQLite (in memory). */
import { describeGuardrailReplays } from '../../testing/guardrail-replays.ts';
import { createSqliteStores } from '../stores.ts';

describeGuardrailReplays('sqlite', async () => createSqliteStores(':memory:'));
