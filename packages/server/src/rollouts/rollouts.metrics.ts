/** The rollouts feature's Prometheus metrics: controller decisions and ticks, and rollouts per status. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ROLLOUT_STATUSES, type RolloutStatus } from './rollouts.store.ts';

export interface RolloutMetrics {
  /** Decisions stored by the controller, by action, rule and whether they were applied. */
  decisions: Counter<'action' | 'rule' | 'applied'>;
  /** Controller ticks, by whether this node ran them (false: another node holds the lock). */
  controllerTicks: Counter<'ran'>;
  /** Decisions refused because this node's controller lease had moved to another node. */
  controllerFenced: Counter;
}

/** Registers the decision and tick counters on `registry`. */
export function createRolloutMetrics(registry: Registry): RolloutMetrics {
  const decisions = new Counter({
    name: 'dimmer_rollout_decisions_total',
    help: 'Rollout decisions stored by the controller, by action, rule and applied',
    labelNames: ['action', 'rule', 'applied'] as const,
    registers: [registry],
  });
  const controllerTicks = new Counter({
    name: 'dimmer_controller_ticks_total',
    help: 'Controller ticks; ran="false" when another node held the controller lease',
    labelNames: ['ran'] as const,
    registers: [registry],
  });
  const controllerFenced = new Counter({
    name: 'dimmer_controller_fenced_total',
    help: 'Controller decisions refused because the lease had moved to another node (a stale holder)',
    registers: [registry],
  });
  return { decisions, controllerTicks, controllerFenced };
}

/** Registers the `dimmer_rollouts` gauge, read from `list` at scrape time. */
export function observeRolloutStatuses(
  registry: Registry,
  list: () => Promise<readonly { state: RolloutStatus }[]>,
): void {
  new Gauge({
    name: 'dimmer_rollouts',
    help: 'Rollouts per status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = new Map<string, number>(ROLLOUT_STATUSES.map((s) => [s, 0]));
      for (const r of await list()) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      for (const [status, n] of counts) this.set({ status }, n);
    },
  });
}

/** Registers `dimmer_controller_lease_held`: 1 while this node holds the controller lease (always on one node). */
export function observeControllerLease(registry: Registry, held: () => boolean): void {
  new Gauge({
    name: 'dimmer_controller_lease_held',
    help: '1 when this node holds the controller lease (always 1 on a single node)',
    registers: [registry],
    collect() {
      this.set(held() ? 1 : 0);
    },
  });
}
