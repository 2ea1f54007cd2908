/**
 * The experiment controller: on the rollout controller's schedule it looks at every running experiment and
 * records the results. It never ships (experiments are decided by a person); it aborts on a deterioration when
 * the experiment's `autoAbort` is on. Across nodes only the node that leads (holds the controller lease) looks.
 */
import type { ExperimentsService } from './experiments.service.ts';
import type { ExperimentResultRecord } from './experiments.store.ts';

export class ExperimentController {
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<ExperimentResultRecord[]> = Promise.resolve([]);

  constructor(
    private readonly deps: {
      experiments: ExperimentsService;
      /** Whether this node leads the cluster now (the controller lease); absent on a single node. */
      leads?: () => Promise<boolean>;
      logger?: { error(object: unknown, message: string): void };
    },
  ) {}

  /** One pass over every running experiment; resolves with the results recorded. Ticks never overlap. */
  tick(): Promise<ExperimentResultRecord[]> {
    const next = this.#current
      .catch(() => [])
      .then(async () => {
        if (this.deps.leads !== undefined && !(await this.deps.leads())) return [];
        return this.#pass();
      });
    this.#current = next;
    return next;
  }

  /** Starts ticking every `intervalMs` milliseconds (0 or less: never). */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.deps.logger?.error({ err: error }, 'experiment controller tick failed'),
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

  async #pass(): Promise<ExperimentResultRecord[]> {
    const out: ExperimentResultRecord[] = [];
    for (const e of await this.deps.experiments.list({ status: 'running' })) {
      try {
        const result = await this.deps.experiments.look(e.id);
        if (result !== null) out.push(result);
      } catch (error) {
        // One broken experiment must not stop the others from being watched.
        this.deps.logger?.error({ err: error, experiment: e.id }, 'experiment look failed');
      }
    }
    return out;
  }
}
