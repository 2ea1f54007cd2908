/**
 * One benchmark process for one system (argv[2]). It answers the parent over IPC:
 * `ready` after set-up, a correctness count and warm-up; `round` results with evaluations per second.
 */

import { measureEvaluateAll } from './evaluate-all.ts';
import { createSystem, type SystemName } from './systems.ts';

const name = process.argv[2] as SystemName;
const VERIFY_USERS = 100_000;
const WARMUP_EVALS = 300_000;

export type WorkerMessage =
  | { type: 'ready'; onShare: number }
  | { type: 'round'; evalsPerSec: number; evals: number }
  | { type: 'evaluate-all'; medianMicros: number; flags: number }
  | { type: 'error'; message: string };
export type ParentMessage =
  | { type: 'round'; round: number; users: number; minMillis: number }
  | { type: 'evaluate-all' }
  | { type: 'exit' };

function send(message: WorkerMessage): void {
  process.send?.(message);
}

let sink = 0;

async function main(): Promise<void> {
  const system = await createSystem(name);
  let on = 0;
  for (let i = 0; i < VERIFY_USERS; i++) if (system.isOn(system.context(`verify-${i}`, i))) on++;
  const warm = Array.from({ length: 10_000 }, (_, i) => system.context(`warm-${i}`, i));
  for (let i = 0; i < WARMUP_EVALS; i++) if (system.isOn(warm[i % warm.length])) sink++;
  send({ type: 'ready', onShare: on / VERIFY_USERS });

  process.on('message', (message: ParentMessage) => {
    try {
      if (message.type === 'exit') {
        system.close();
        process.exit(sink === -1 ? 1 : 0);
      }
      if (message.type === 'evaluate-all') {
        send({ type: 'evaluate-all', ...measureEvaluateAll() });
        return;
      }
      // Distinct user ids every round; passes repeat over this round's users until the minimum time is reached.
      const contexts = Array.from({ length: message.users }, (_, i) =>
        system.context(`r${message.round}-user-${i}`, i),
      );
      let evals = 0;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        for (let i = 0; i < contexts.length; i++) if (system.isOn(contexts[i])) sink++;
        evals += contexts.length;
        elapsed = Number(process.hrtime.bigint() - start) / 1e6;
      } while (elapsed < message.minMillis);
      send({ type: 'round', evalsPerSec: (evals / elapsed) * 1000, evals });
    } catch (error) {
      send({ type: 'error', message: String(error) });
    }
  });
}

main().catch((error) => {
  send({ type: 'error', message: String(error) });
  process.exit(1);
});
