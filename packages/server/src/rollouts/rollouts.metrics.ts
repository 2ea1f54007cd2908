/** The rollouts feature's Prometheus metrics: controller decisions and ticks, and rollouts per status. */
import { Counter, Gauge, type Registry } from 'prom-client';
import { ROLLOUT_STATUSES, type RolloutStatus } from './rollouts.store.ts';
import type { OutboxStats } from './webhooks.store.ts';

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

/** Outcomes of webhook tries, as counted by `dimmer_webhook_deliveries_total`. */
export type WebhookOutcome = 'delivered' | 'retry' | 'given_up';

/**
 * Registers the webhook outbox metrics: `dimmer_webhook_deliveries_total{outcome}` (tries of this node), and the
 * cluster-wide gauges read from the outbox at scrape time (`…_pending`, `…_oldest_seconds`, `…_given_up`). While
 * the storage cannot be read the gauges keep their last values.
 */
export function observeWebhookOutbox(
  registry: Registry,
  read: () => Promise<OutboxStats>,
  now: () => number,
): (outcome: WebhookOutcome) => void {
  const deliveries = new Counter({
    name: 'dimmer_webhook_deliveries_total',
    help: 'Webhook tries made by this node: delivered, failed and to be retried, or failed for the last time',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  let last: Promise<OutboxStats | undefined> | undefined;
  // One read of the outbox per scrape, shared by the three gauges.
  const stats = () => {
    last ??= read()
      .catch(() => undefined)
      .finally(() => setTimeout(() => (last = undefined), 0));
    return last;
  };
  const gauge = (name: string, help: string, value: (s: OutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        const s = await stats();
        if (s !== undefined) this.set(value(s));
      },
    });
  gauge(
    'dimmer_webhook_outbox_pending',
    'Webhook deliveries waiting (all nodes): neither delivered nor given up',
    (s) => s.pending,
  );
  gauge(
    'dimmer_webhook_outbox_oldest_seconds',
    'Age of the oldest waiting webhook delivery, in seconds (0 when none waits)',
    (s) => (s.oldestCreatedAt === null ? 0 : Math.max(0, (now() - s.oldestCreatedAt) / 1000)),
  );
  gauge(
    'dimmer_webhook_outbox_given_up',
    'Webhook deliveries given up after their last try (kept 7 days)',
    (s) => s.givenUp,
  );
  return (outcome) => deliveries.inc({ outcome });
}
