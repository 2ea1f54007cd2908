/**
 * The rollout controller: on a schedule (DIMMER_CONTROLLER_INTERVAL_MS, default one minute) it looks at every
 * running, paused and holding rollout and stores what packages/rollout's `decide` says. Across nodes
 * (PostgreSQL) leadership is a lease with a fencing epoch: only the node holding the lease looks, it renews the
 * lease three times per period, another node takes over once it expires, and every decision is applied in a
 * transaction that checks the lease still names this node and epoch, so a node that was paused or cut off past
 * its lease cannot apply a stale decision. On one node (SQLite) the lease is trivially held. Tests call `tick()`.
 */

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type LeaseFence, type LeaseStore, StoreFencedError } from '../storage/write.ts';
import type { RolloutsService } from './rollouts.service.ts';
import type { DecisionRecord } from './rollouts.store.ts';

/** Name of the lease that lets exactly one node run the controller. */
export const CONTROLLER_LEASE = 'rollout-controller';
/** Lease period when none is configured, in milliseconds. */
export const DEFAULT_LEASE_MS = 15_000;
/** Renewals per lease period (the holder renews every period / RENEWALS_PER_PERIOD). */
const RENEWALS_PER_PERIOD = 3;

export interface ControllerDeps {
  rollouts: RolloutsService;
  /** The cluster's leases (PostgreSQL); absent on a single node. */
  leases?: LeaseStore;
  /** Lease period in milliseconds; takeover after a holder vanishes happens within 2 × this. */
  leaseMs?: number;
  /** This node's name in the lease row (default: host, pid and a random suffix). */
  holder?: string;
  logger?: {
    error(object: unknown, message: string): void;
    warn?(object: unknown, message: string): void;
  };
  onTick?: (outcome: { ran: boolean; decisions: number }) => void;
  /** Called when a decision was refused because the lease had moved on. */
  onFenced?: () => void;
}

/** A node's name in the lease row. */
export function defaultHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

export class RolloutController {
  readonly #deps: ControllerDeps;
  readonly #holder: string;
  readonly #leaseMs: number;
  #timer: NodeJS.Timeout | undefined;
  #leaseTimer: NodeJS.Timeout | undefined;
  #current: Promise<DecisionRecord[]> = Promise.resolve([]);
  /** The epoch held, or undefined when this node does not hold the lease. */
  #epoch: number | undefined;
  #renewing: Promise<void> | undefined;

  constructor(deps: ControllerDeps) {
    this.#deps = deps;
    this.#holder = deps.holder ?? defaultHolder();
    this.#leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** This node's lease holder name. */
  get holder(): string {
    return this.#holder;
  }

  /** The lease epoch this node holds, or undefined (always undefined on a single node). */
  get epoch(): number | undefined {
    return this.#epoch;
  }

  /**
   * Whether this node leads the cluster now: it holds the controller lease (taken if free), always on a single
   * node. A failure to reach the database counts as not leading.
   */
  async leads(): Promise<boolean> {
    if (this.#deps.leases === undefined) return true;
    if (this.#epoch === undefined) await this.#renew();
    return this.#epoch !== undefined;
  }

  /**
   * One pass over every monitored rollout; resolves with the decisions stored (empty when another node holds the
   * lease). Ticks never overlap: a tick asked for during another runs after it.
   */
  tick(): Promise<DecisionRecord[]> {
    const next = this.#current.catch(() => []).then(() => this.#leasedPass());
    this.#current = next;
    return next;
  }

  /** Starts ticking every `intervalMs` milliseconds (0 or less: never) and, across nodes, keeping the lease. */
  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.#deps.logger?.error({ err: error }, 'controller tick failed'),
      );
    }, intervalMs);
    this.#timer.unref();
    if (this.#deps.leases !== undefined) {
      this.#leaseTimer = setInterval(() => {
        this.#renew().catch(() => undefined);
      }, this.#leaseMs / RENEWALS_PER_PERIOD);
      this.#leaseTimer.unref();
      this.#renew().catch(() => undefined);
    }
  }

  /** Stops the schedule, waits for a running tick and gives the lease up so another node takes over at once. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#leaseTimer !== undefined) clearInterval(this.#leaseTimer);
    this.#timer = undefined;
    this.#leaseTimer = undefined;
    await this.#current.catch(() => undefined);
    await this.#renewing?.catch(() => undefined);
    if (this.#deps.leases !== undefined && this.#epoch !== undefined) {
      this.#epoch = undefined;
      await this.#deps.leases.release(CONTROLLER_LEASE, this.#holder).catch(() => undefined);
    }
  }

  /** Takes or renews the lease (one attempt at a time); a failure to reach the database counts as not holding. */
  #renew(): Promise<void> {
    const leases = this.#deps.leases;
    if (leases === undefined) return Promise.resolve();
    this.#renewing ??= (async () => {
      const before = this.#epoch;
      try {
        const epoch = await leases.acquire(CONTROLLER_LEASE, this.#holder, this.#leaseMs);
        this.#epoch = epoch ?? undefined;
      } catch (error) {
        this.#epoch = undefined;
        this.#deps.logger?.warn?.({ err: error }, 'controller lease renewal failed');
      }
      if (before !== this.#epoch)
        this.#deps.logger?.warn?.(
          { holder: this.#holder, from: before ?? null, to: this.#epoch ?? null },
          this.#epoch === undefined ? 'controller lease lost' : 'controller lease taken',
        );
    })().finally(() => {
      this.#renewing = undefined;
    });
    return this.#renewing;
  }

  async #leasedPass(): Promise<DecisionRecord[]> {
    if (this.#deps.leases === undefined) return this.#pass(undefined);
    if (this.#epoch === undefined) await this.#renew();
    const epoch = this.#epoch;
    if (epoch === undefined) {
      this.#deps.onTick?.({ ran: false, decisions: 0 });
      return [];
    }
    return this.#pass({ name: CONTROLLER_LEASE, holder: this.#holder, epoch });
  }

  async #pass(fence: LeaseFence | undefined): Promise<DecisionRecord[]> {
    const decisions: DecisionRecord[] = [];
    for (const id of await this.#deps.rollouts.monitoredIds()) {
      try {
        const decision = await this.#deps.rollouts.look(id, fence);
        if (decision !== null) decisions.push(decision);
      } catch (error) {
        if (error instanceof StoreFencedError) {
          // Another node holds the lease now: this node's view is stale, nothing more is applied.
          if (this.#epoch === fence?.epoch) this.#epoch = undefined;
          this.#deps.onFenced?.();
          this.#deps.logger?.warn?.(
            { rollout: id, epoch: fence?.epoch },
            'controller decision refused: lease lost',
          );
          break;
        }
        // One broken rollout must not stop the others from being watched.
        this.#deps.logger?.error({ err: error, rollout: id }, 'controller look failed');
      }
    }
    this.#deps.onTick?.({ ran: true, decisions: decisions.length });
    return decisions;
  }
}
