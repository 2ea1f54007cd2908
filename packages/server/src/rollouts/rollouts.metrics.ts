/** The rollouts feature's Prometheus metrics: controller decisions and ticks, and rollouts per status. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ROLLOUT_STATUSES, type RolloutStatus } from './rollouts.store.ts';

export interface RolloutMetrics {
  /** Decisions stored by the controller, by action, rule and whether they were applied. */
  decisions: Counter<'action' | 'rule' | 'applied'>;
  /** Controller ticks, by whether this node ran them (false: another node holds the lock). */
  controllerTicks: Counter<'ran'>;
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
    help: 'Controller ticks; ran="false" when another node held the controller lock',
    labelNames: ['ran'] as const,
    registers: [registry],
  });
  return { decisions, controllerTicks };
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

/**
 * Registers the `dimmer_rollout_alarm` gauge (per rollout id and status: 1 while the rollout is in alarm, 0
 * while it can decide), read from `list` at scrape time; rollouts no longer monitored leave the series.
 */
export function observeRolloutAlarms(
  registry: Registry,
  list: () => Promise<readonly { id: string; state: string; alarmed: boolean }[]>,
): void {
  new Gauge({
    name: 'dimmer_rollout_alarm',
    help: 'Rollouts that cannot decide (invalid evidence, no exposures, missing metric, flag off): 1 while in alarm',
    labelNames: ['rollout', 'state'] as const,
    registers: [registry],
    async collect() {
      const rollouts = await list();
      this.reset();
      for (const r of rollouts) this.set({ rollout: r.id, state: r.state }, r.alarmed ? 1 : 0);
    },
  });
}
