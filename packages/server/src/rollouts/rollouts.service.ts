/**
 * Rollouts (the part issue 04 needs; the full API and the controller build on it): creation with the
 * guardrail metric definitions copied in, reach changes applied to the rollout and its flag's rule in one
 * transaction, and the evidence of the current attempt.
 */
import { BUCKET_COUNT, type FlagConfig, type Rule, type SplitSlice } from '@dimmer/core';
import { ROLLOUT_RULE_ID_PREFIX } from '@dimmer/rollout';
import type { Clock } from '../clock.ts';
import type { EnvironmentsStore } from '../environments/environments.store.ts';
import { AppError } from '../errors.ts';
import type { FlagsStore } from '../flags/flags.store.ts';
import { generateId } from '../keys/secrets.ts';
import type { MetricDefinition } from '../metrics/metric.model.ts';
import type { MetricsStore } from '../metrics/metrics.store.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/stores.ts';
import type { SurfacesStore } from '../surfaces/surfaces.store.ts';
import { buildEvidence, type EvidenceReport } from './evidence.ts';
import {
  ROLLOUT_STATUSES,
  type RolloutRecord,
  type RolloutStatus,
  type RolloutsStore,
} from './rollouts.store.ts';

/** Buckets per percent of reach (1% = 10,000 of 1,000,000). */
export const BUCKETS_PER_PERCENT = BUCKET_COUNT / 100;

/** What creating a rollout takes (the plan document is stored as given; issue 05 validates it). */
export interface RolloutInput {
  id?: string;
  flag: string;
  environment: string;
  treatment: string;
  /** Defaults to the flag's default variant. */
  control?: string;
  /** Guardrail metric keys; the flag's surface's required metrics are always added. */
  guardrails?: string[];
  plan?: unknown;
}

/** Treatment buckets of a reach in percent (up to four decimals). */
export function reachToBuckets(reach: number): number {
  return Math.min(BUCKET_COUNT, Math.max(0, Math.round(reach * BUCKETS_PER_PERCENT)));
}

/**
 * The rule a rollout puts on its flag: treatment `[0, reach)` and control `[reach, 1,000,000)`, both arms
 * marked so their evaluations are exposures (the same rule as packages/rollout's `rolloutRule`).
 */
export function buildRolloutRule(
  rollout: Pick<RolloutRecord, 'id' | 'treatment' | 'control' | 'reach'>,
): Rule {
  const reach = reachToBuckets(rollout.reach);
  const split: SplitSlice[] = [];
  if (reach > 0) split.push({ variant: rollout.treatment, range: [0, reach], arm: 'treatment' });
  if (reach < BUCKET_COUNT)
    split.push({ variant: rollout.control, range: [reach, BUCKET_COUNT], arm: 'control' });
  return { id: ROLLOUT_RULE_ID_PREFIX + rollout.id, rollout: rollout.id, serve: { split } };
}

function invalid(path: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${path}: ${message}`, { issues: [{ path, message }] });
}

export class RolloutsService {
  constructor(
    private readonly deps: {
      rollouts: RolloutsStore;
      flags: FlagsStore;
      metrics: MetricsStore;
      surfaces: SurfacesStore;
      environments: EnvironmentsStore;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
    },
  ) {}

  async get(id: string): Promise<RolloutRecord> {
    const record = await this.deps.rollouts.get(id);
    if (!record) throw new AppError('NOT_FOUND', `rollout "${id}" not found`);
    return record;
  }

  /** Creates a draft rollout at reach 0, copying the definitions of its guardrails (surface metrics included). */
  async create(input: RolloutInput, actor: string): Promise<RolloutRecord> {
    const flag = await this.deps.flags.get(input.flag);
    if (!flag) throw invalid('flag', `unknown flag "${input.flag}"`);
    if (!(await this.deps.environments.get(input.environment)))
      throw invalid('environment', `unknown environment "${input.environment}"`);
    const control = input.control ?? flag.flag.defaultVariant;
    if (!Object.hasOwn(flag.flag.variants, input.treatment))
      throw invalid('treatment', `flag "${input.flag}" has no variant "${input.treatment}"`);
    if (!Object.hasOwn(flag.flag.variants, control))
      throw invalid('control', `flag "${input.flag}" has no variant "${control}"`);
    if (control === input.treatment) throw invalid('control', 'treatment and control must differ');
    const keys = [...(input.guardrails ?? [])];
    if (flag.flag.surface !== undefined) {
      const surface = await this.deps.surfaces.get(flag.flag.surface);
      for (const g of surface?.surface.guardrails ?? []) if (!keys.includes(g.metric)) keys.push(g.metric);
    }
    const metrics: MetricDefinition[] = [];
    for (const [i, key] of keys.entries()) {
      const record = await this.deps.metrics.get(key);
      if (!record) throw invalid(`guardrails[${i}]`, `unknown metric "${key}"`);
      metrics.push(record.metric);
    }
    const now = this.deps.clock.now();
    const record: RolloutRecord = {
      id: input.id ?? generateId('ro_'),
      flag: input.flag,
      environment: input.environment,
      treatment: input.treatment,
      control,
      state: 'draft',
      stage: 0,
      reach: 0,
      attempt: 1,
      guardrails: keys,
      metrics,
      plan: input.plan ?? null,
      stateDoc: null,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    try {
      return await this.deps.rollouts.create(record, {
        at: now,
        actor,
        action: 'rollout.create',
        resourceType: 'rollout',
        resourceKey: record.id,
        environment: record.environment,
        before: null,
        after: record,
      });
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError(
          'CONFLICT',
          `rollout "${record.id}" exists, or another rollout is active on the flag`,
        );
      throw error;
    }
  }

  /**
   * Sets a rollout's stage and reach (percent), optionally its status and attempt, and puts the matching rule
   * on its flag in its environment — one transaction that also bumps the config version and writes audit.
   */
  async setReach(
    id: string,
    change: { stage: number; reach: number; state?: RolloutStatus; attempt?: number },
    actor: string,
  ): Promise<RolloutRecord> {
    if (!Number.isInteger(change.stage) || change.stage < 0)
      throw invalid('stage', 'expected an integer ≥ 0');
    if (!(change.reach >= 0 && change.reach <= 100)) throw invalid('reach', 'expected a percent in [0, 100]');
    if (change.state !== undefined && !ROLLOUT_STATUSES.includes(change.state))
      throw invalid('state', `expected one of ${ROLLOUT_STATUSES.join(', ')}`);
    const current = await this.get(id);
    const flag = await this.deps.flags.get(current.flag);
    if (!flag) throw new AppError('NOT_FOUND', `flag "${current.flag}" not found`);
    const now = this.deps.clock.now();
    const next: RolloutRecord = {
      ...current,
      stage: change.stage,
      reach: change.reach,
      state: change.state ?? current.state,
      attempt: change.attempt ?? current.attempt,
      updatedAt: now,
    };
    const doc: FlagConfig = structuredClone(flag.flag);
    const env = doc.environments[current.environment] ?? { enabled: true, rules: [] };
    const rule = buildRolloutRule(next);
    const at = env.rules.findIndex((r) => r.id === rule.id);
    if (at >= 0) env.rules[at] = rule;
    else env.rules.push(rule);
    doc.environments[current.environment] = env;
    try {
      const result = await this.deps.rollouts.updateWithFlag(
        next,
        { expectedRevision: current.revision, flag: doc, flagRevision: flag.revision },
        [
          {
            at: now,
            actor,
            action: 'rollout.reach',
            resourceType: 'rollout',
            resourceKey: id,
            environment: current.environment,
            before: {
              state: current.state,
              stage: current.stage,
              reach: current.reach,
              attempt: current.attempt,
            },
            after: { state: next.state, stage: next.stage, reach: next.reach, attempt: next.attempt },
          },
          {
            at: now,
            actor,
            action: 'flag.update',
            resourceType: 'flag',
            resourceKey: doc.key,
            environment: current.environment,
            before: { ...flag.flag, archived: flag.archived },
            after: { ...doc, archived: flag.archived },
          },
        ],
      );
      await this.deps.announce(result.changes);
      return result.value;
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `rollout "${id}" or its flag was changed by another request; retry`);
      if (error instanceof StoreNotFoundError) throw new AppError('NOT_FOUND', error.message);
      throw error;
    }
  }

  /** The current attempt's evidence (what `decide` reads) and estimates. */
  async evidence(id: string): Promise<EvidenceReport> {
    const rollout = await this.get(id);
    return buildEvidence(rollout, await this.deps.rollouts.readAnalysis(id, rollout.attempt));
  }
}
