/**
 * The rollout controller: on a schedule (DIMMER_CONTROLLER_INTERVAL_MS, default one minute) it looks at every
 * running, paused and holding rollout and stores what packages/rollout's `decide` says. On PostgreSQL only the
 * node holding the controller's advisory lock looks; the others skip the tick. Tests call `tick()` directly.
 */
import type { RunExclusive } from '../storage/write.ts';
import type { RolloutsService } from './rollouts.service.ts';
import type { DecisionRecord } from './rollouts.store.ts';

/** Name of the lock that lets exactly one node run the controller. */
export const CONTROLLER_LOCK = 'dimmer:rollout-controller';

export interface ControllerDeps {
  rollouts: RolloutsService;
  /** The stores' cross-process lock (PostgreSQL); absent on a single node. */
  runExclusive?: RunExclusive;
  logger?: { error(object: unknown, message: string): void };
  onTick?: (outcome: { ran: boolean; decisions: number }) => void;
}

export class RolloutController {
  readonly #deps: ControllerDeps;
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<DecisionRecord[]> = Promise.resolve([]);

  constructor(deps: ControllerDeps) {
    this.#deps = deps;
  }

  /**
   * One pass over every monitored rollout; resolves with the decisions stored (empty when another node holds the
   * controller lock). Ticks never overlap: a tick asked for during another runs after it.
   */
  tick(): Promise<DecisionRecord[]> {
    const next = this.#current.catch(() => []).then(() => this.#exclusivePass());
    this.#current = next;
    return next;
  }

  /** Starts ticking every `intervalMs` milliseconds (0 or less: never). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.#deps.logger?.error({ err: error }, 'controller tick failed'),
      );
    }, intervalMs);
    this.#timer.unref();
  }

  /** Stops the schedule and waits for a running tick. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#current.catch(() => undefined);
  }

  async #exclusivePass(): Promise<DecisionRecord[]> {
    const run = this.#deps.runExclusive;
    if (run === undefined) return this.#pass();
    const outcome = await run(CONTROLLER_LOCK, () => this.#pass());
    if (!outcome.ran) this.#deps.onTick?.({ ran: false, decisions: 0 });
    return outcome.ran ? outcome.value : [];
  }

  async #pass(): Promise<DecisionRecord[]> {
    const decisions: DecisionRecord[] = [];
    for (const id of await this.#deps.rollouts.monitoredIds()) {
      try {
        const decision = await this.#deps.rollouts.look(id);
        if (decision !== null) decisions.push(decision);
      } catch (error) {
        // One broken rollout must not stop the others from being watched.
        this.#deps.logger?.error({ err: error, rollout: id }, 'controller look failed');
      }
    }
    this.#deps.onTick?.({ ran: true, decisions: decisions.length });
    return decisions;
  }
}
