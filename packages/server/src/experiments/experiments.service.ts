/**
 * Experiments (A/B tests): creation from a plan validated by packages/rollout with the sample plan, the lifecycle
 * actions (each one store transaction with the flag's experiment rule, the config version bump and the audit
 * entries), shipping a winner as a guarded rollout on the same salt, and the results of a look.
 */
import type {
  ExperimentResults,
  ExperimentSamplePlanView,
  ExperimentShipInput,
  ExperimentSimpleAction,
  RolloutInput,
} from '@dimmer/api';
import type { FlagConfig, Rule, ValidationIssue } from '@dimmer/core';
import {
  applyExperimentAction,
  CONTROLLER_ACTOR,
  createExperimentState,
  DAY_MS,
  decideExperiment,
  type ExperimentDecision,
  type ExperimentEvidence,
  type ExperimentPlan,
  type ExperimentRequest,
  type ExperimentState,
  experimentRule,
  experimentRuleId,
  isRolloutActive,
  planExperimentSample,
  shipRolloutPlan,
  validateExperimentPlan,
} from '@dimmer/rollout';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { type FlagsStore, withRule } from '../flags/index.ts';
import type { MetricDefinition, MetricsStore } from '../metrics/index.ts';
import type { ApprovalGate, RolloutAnalysis, RolloutRecord, RolloutsService } from '../rollouts/index.ts';
import { generateId } from '../secrets.ts';
import {
  type AuditInput,
  type ConfigChange,
  StoreConflictError,
  StoreNotFoundError,
} from '../storage/write.ts';
import type { SurfacesStore } from '../surfaces/index.ts';
import { EXPERIMENT_ATTEMPT, experimentAnalysisKey, experimentEvidence } from './experiment-evidence.ts';
import {
  ACTIVE_EXPERIMENT_STATUSES,
  type ExperimentRecord,
  type ExperimentResultInput,
  type ExperimentResultRecord,
  type ExperimentsStore,
  type ExperimentTrafficInput,
} from './experiments.store.ts';

/** Traffic the sample plan assumes when none was observed or stated: units a day. */
export const DEFAULT_EXPERIMENT_UNITS_PER_DAY = 10_000;
/** Fields of `POST /experiments` that are not part of the plan. */
const EXTRA_FIELDS = ['expectedUnitsPerDay', 'expectedBaselines', 'autoAbort'] as const;

function validationError(issues: readonly ValidationIssue[], what = 'experiment'): AppError {
  const first = issues[0];
  const message =
    first === undefined
      ? `invalid ${what}`
      : `${first.path === '' ? '' : `${first.path}: `}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`;
  return new AppError('VALIDATION_FAILED', message, { issues });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads the stored plan and state documents of a record. */
export function experimentPlanOf(record: ExperimentRecord): ExperimentPlan {
  return record.plan as ExperimentPlan;
}

export function experimentStateOf(record: ExperimentRecord): ExperimentState {
  return (record.stateDoc as ExperimentState | null) ?? createExperimentState();
}

/** Moves rule `moved` to where rule `target` is and removes `target` (ship: the rollout takes the experiment's place). */
function takePlace(flag: FlagConfig, environment: string, target: string, moved: string): FlagConfig {
  const document: FlagConfig = structuredClone(flag);
  const env = document.environments[environment];
  if (env === undefined) return document;
  const at = env.rules.findIndex((r) => r.id === target);
  const from = env.rules.findIndex((r) => r.id === moved);
  if (at < 0) return document;
  if (from < 0) {
    env.rules.splice(at, 1);
    return document;
  }
  const rule = env.rules[from] as Rule;
  env.rules[at] = rule;
  env.rules.splice(from, 1);
  return document;
}

function snapshot(state: ExperimentState): { status: string; coverage: number } {
  return { status: state.status, coverage: state.coverage };
}

/** A look as the API returns it. */
export function resultsView(
  id: string,
  decision: Omit<ExperimentDecision, 'nextState'>,
  units: Record<string, number>,
): ExperimentResults {
  return {
    experiment: id,
    at: new Date(decision.at).toISOString(),
    status: decision.status,
    coverage: decision.coverage,
    recommendation: decision.recommendation,
    rule: decision.rule,
    reason: decision.reason,
    winner: decision.winner,
    plannedUnits: decision.plannedUnits,
    units,
    metrics: decision.metrics as unknown as ExperimentResults['metrics'],
    variants: decision.variants,
    srm: decision.srm,
    applied: decision.applied,
  };
}

export class ExperimentsService {
  constructor(
    private readonly deps: {
      experiments: ExperimentsStore;
      flags: FlagsStore;
      metrics: MetricsStore;
      surfaces: SurfacesStore;
      rollouts: RolloutsService;
      /** The statistics ingestion keeps under an analysis id and attempt (the rollouts store's tables). */
      readAnalysis: (id: string, attempt: number) => Promise<RolloutAnalysis>;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
      /** The approval gate of a person's start (the people feature); absent: none required. */
      approvals?: ApprovalGate<ExperimentRecord>;
    },
  ) {}

  async get(id: string): Promise<ExperimentRecord> {
    const record = await this.deps.experiments.get(id);
    if (!record) throw new AppError('NOT_FOUND', `experiment "${id}" not found`);
    return record;
  }

  /** Experiments by creation time, optionally of one flag, environment or status. */
  async list(
    filter: { flag?: string; environment?: string; status?: string } = {},
  ): Promise<ExperimentRecord[]> {
    return (
      await this.deps.experiments.list({
        ...(filter.flag !== undefined ? { flag: filter.flag } : {}),
        ...(filter.environment !== undefined ? { environment: filter.environment } : {}),
      })
    ).filter((e) => filter.status === undefined || e.status === filter.status);
  }

  /** The latest recorded look. */
  async latest(record: ExperimentRecord): Promise<ExperimentResultRecord | undefined> {
    return this.deps.experiments.latestResult(record.id);
  }

  /** The rollout or running experiment that owns the flag in the environment, other than `except`. */
  private async owner(flag: string, environment: string, except: string): Promise<string | null> {
    const rollout = (await this.deps.rollouts.list({ flag, environment })).find(({ record }) =>
      isRolloutActive(record.state),
    );
    if (rollout !== undefined) return `rollout ${rollout.record.id} (${rollout.record.state})`;
    const experiment = (await this.deps.experiments.list({ flag, environment })).find(
      (e) => e.id !== except && ACTIVE_EXPERIMENT_STATUSES.includes(e.status),
    );
    return experiment === undefined ? null : `experiment ${experiment.id} (${experiment.status})`;
  }

  private async metricMap(): Promise<Record<string, MetricDefinition>> {
    const metrics: Record<string, MetricDefinition> = {};
    for (const m of await this.deps.metrics.list()) metrics[m.metric.key] = m.metric;
    return metrics;
  }

  /**
   * Creates a draft experiment from a plan (validated by packages/rollout: the surface's required guardrails
   * merged, weights summing to 100, a success metric never a guardrail, at least two variants) plus optional
   * `expectedUnitsPerDay` / `expectedBaselines` for the sample plan and `autoAbort` (default true).
   * VALIDATION_FAILED with every issue's path, CONFLICT (field `flag`) when a rollout or experiment owns the flag
   * in the environment; nothing is written on rejection.
   */
  async create(
    body: unknown,
    actor: string,
  ): Promise<{ record: ExperimentRecord; samplePlan: ExperimentSamplePlanView }> {
    const { plan, traffic, autoAbort, metrics } = await this.validate(body);
    const owner = await this.owner(plan.flag, plan.environment, plan.id);
    if (owner !== null)
      throw new AppError(
        'CONFLICT',
        `flag: ${plan.flag} already has ${owner} in ${plan.environment}; end it first`,
        { issues: [{ path: 'flag', message: `${owner} owns this flag in ${plan.environment}` }] },
      );
    const now = this.deps.clock.now();
    const keys = [...plan.successMetrics.map((s) => s.metric), ...plan.guardrails.map((g) => g.metric)];
    const record: ExperimentRecord = {
      id: plan.id,
      flag: plan.flag,
      environment: plan.environment,
      status: 'draft',
      metrics: keys.map((k) => metrics[k] as MetricDefinition),
      plan,
      stateDoc: createExperimentState(),
      traffic,
      autoAbort,
      rollout: null,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
    let created: ExperimentRecord;
    try {
      created = await this.deps.experiments.create(record, {
        at: now,
        actor,
        action: 'experiment.create',
        resourceType: 'experiment',
        resourceKey: record.id,
        environment: record.environment,
        before: null,
        after: { plan, traffic: record.traffic, autoAbort: record.autoAbort },
      });
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `id: experiment "${record.id}" exists`, {
          issues: [{ path: 'id', message: `experiment ${record.id} exists` }],
        });
      if (error instanceof StoreNotFoundError)
        throw validationError([{ path: 'environment', message: error.message }]);
      throw error;
    }
    return { record: created, samplePlan: this.samplePlan(created) };
  }

  /**
   * Validates a plan as sent (`POST /experiments`, `PUT /experiments/{id}`): the plan through packages/rollout
   * (for `started`, also the changes a running experiment cannot take), `autoAbort` and the stated traffic.
   */
  private async validate(
    body: unknown,
    revising?: { id: string; started?: { plan: ExperimentPlan; coverage: number } },
  ): Promise<{
    plan: ExperimentPlan;
    traffic: ExperimentTrafficInput | null;
    autoAbort: boolean;
    metrics: Record<string, MetricDefinition>;
  }> {
    if (!isObject(body)) throw validationError([{ path: '', message: 'expected an experiment plan object' }]);
    const issues: ValidationIssue[] = [];
    const traffic: ExperimentTrafficInput = {};
    if (typeof body.expectedUnitsPerDay === 'number') traffic.expectedUnitsPerDay = body.expectedUnitsPerDay;
    if (isObject(body.expectedBaselines))
      traffic.baselines = body.expectedBaselines as NonNullable<ExperimentTrafficInput['baselines']>;
    const autoAbort = body.autoAbort === undefined ? true : body.autoAbort;
    if (typeof autoAbort !== 'boolean')
      issues.push({ path: 'autoAbort', message: `expected true or false, got ${JSON.stringify(autoAbort)}` });
    const input: Record<string, unknown> = { ...body };
    for (const field of EXTRA_FIELDS) delete input[field];
    if (revising !== undefined && input.id !== undefined && input.id !== revising.id)
      throw validationError([
        { path: 'id', message: `the id cannot change (expected ${JSON.stringify(revising.id)})` },
      ]);
    input.id ??= revising?.id ?? generateId('ex_');
    if (typeof input.flag !== 'string')
      throw validationError([
        { path: 'flag', message: `expected the key of a flag, got ${JSON.stringify(input.flag)}` },
      ]);
    const flag = await this.deps.flags.get(input.flag);
    if (!flag || flag.archived)
      throw validationError([{ path: 'flag', message: `unknown flag ${JSON.stringify(input.flag)}` }]);
    const metrics = await this.metricMap();
    const surface =
      flag.flag.surface === undefined ? undefined : await this.deps.surfaces.get(flag.flag.surface);
    const result = validateExperimentPlan(input, {
      flag: flag.flag,
      metrics,
      surfaceRequired: surface?.surface.guardrails ?? [],
      activeOnFlagEnv: false,
      ...(revising?.started !== undefined ? { started: revising.started } : {}),
    });
    if (!result.ok || issues.length > 0)
      throw validationError([...(result.ok ? [] : result.issues), ...issues]);
    return {
      plan: result.value,
      traffic: Object.keys(traffic).length > 0 ? traffic : null,
      autoAbort: autoAbort === true,
      metrics,
    };
  }

  /**
   * Revises an experiment's plan (`PUT /experiments/{id}`): a draft takes any valid plan; a running one only
   * changes that leave assignment and the sequential tests alone (minimum duration and units, mode, SRM action,
   * autoAbort, stated traffic): a weight, variant, coverage or metric change is refused naming the field
   * (`variants[i].weight`, `coverage`, `successMetrics`). An ended experiment is not revised (CONFLICT).
   * Nothing is written on refusal.
   */
  async revise(id: string, body: unknown, actor: string): Promise<ExperimentRecord> {
    const record = await this.get(id);
    if (record.status !== 'draft' && record.status !== 'running')
      throw new AppError('CONFLICT', `experiment "${id}" has ended (${record.status}); its plan is final`, {
        status: record.status,
      });
    const before = experimentPlanOf(record);
    const started =
      record.status === 'running'
        ? { plan: before, coverage: experimentStateOf(record).coverage }
        : undefined;
    const { plan, traffic, autoAbort, metrics } = await this.validate(body, {
      id,
      ...(started !== undefined ? { started } : {}),
    });
    const keys = [...plan.successMetrics.map((s) => s.metric), ...plan.guardrails.map((g) => g.metric)];
    const updated: ExperimentRecord = {
      ...record,
      plan,
      traffic,
      autoAbort,
      // A running experiment's metrics are fixed (validation refuses a change): their definitions stay as counted.
      metrics: started === undefined ? keys.map((k) => metrics[k] as MetricDefinition) : record.metrics,
      updatedAt: this.deps.clock.now(),
    };
    return this.commit(
      record,
      updated,
      actor,
      [
        {
          at: this.deps.clock.now(),
          actor,
          action: 'experiment.update',
          resourceType: 'experiment',
          resourceKey: id,
          environment: record.environment,
          before: { plan: before, traffic: record.traffic, autoAbort: record.autoAbort },
          after: { plan, traffic, autoAbort },
        },
      ],
      undefined,
    );
  }

  /** The sample plan at the stated traffic (else a default, with a warning). */
  samplePlan(record: ExperimentRecord): ExperimentSamplePlanView {
    const plan = experimentPlanOf(record);
    const warnings: string[] = [];
    let unitsPerDay = record.traffic?.expectedUnitsPerDay;
    let source: ExperimentSamplePlanView['traffic']['source'] = 'expected';
    if (unitsPerDay === undefined) {
      unitsPerDay = DEFAULT_EXPERIMENT_UNITS_PER_DAY;
      source = 'default';
      warnings.push(
        `no expectedUnitsPerDay given: the plan assumes ${DEFAULT_EXPERIMENT_UNITS_PER_DAY.toLocaleString('en-US')} new units a day`,
      );
    }
    const sample = planExperimentSample(plan, { unitsPerDay, baselines: record.traffic?.baselines ?? {} });
    const finite = (x: number) => (Number.isFinite(x) ? x : null);
    const unitsPerArm: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(sample.unitsPerArm)) unitsPerArm[k] = finite(v);
    return {
      experiment: record.id,
      traffic: { unitsPerDay, source },
      metrics: sample.metrics,
      coveredUnits: finite(sample.coveredUnits),
      unitsPerArm,
      drivingMetric: sample.drivingMetric,
      coveredUnitsPerDay: sample.coveredUnitsPerDay,
      durationDays: Number.isFinite(sample.durationMs) ? sample.durationMs / DAY_MS : null,
      warnings: [...warnings, ...sample.warnings],
    };
  }

  /**
   * Applies start, stop, abort or a coverage change through packages/rollout's state machine, in one transaction
   * with the flag's experiment rule (installed on start, resized on coverage, removed on stop and abort).
   * CONFLICT when not allowed in the current status or when another rollout or experiment owns the flag.
   */
  async act(
    id: string,
    action: ExperimentSimpleAction | 'set_coverage',
    actor: string,
    coverage?: number,
  ): Promise<ExperimentRecord> {
    const record = await this.get(id);
    const request: ExperimentRequest =
      action === 'set_coverage'
        ? { action, coverage: coverage ?? Number.NaN, now: this.deps.clock.now(), actor }
        : { action, now: this.deps.clock.now(), actor };
    const next = this.transition(record, request);
    if (action === 'start') {
      await this.deps.approvals?.check(record, 'start', null);
      const owner = await this.owner(record.flag, record.environment, record.id);
      if (owner !== null)
        throw new AppError(
          'CONFLICT',
          `flag: ${record.flag} already has ${owner} in ${record.environment}; end it first`,
          { issues: [{ path: 'flag', message: `${owner} owns this flag in ${record.environment}` }] },
        );
    }
    return this.persist(record, next, actor, `experiment.${action === 'set_coverage' ? 'coverage' : action}`);
  }

  private transition(record: ExperimentRecord, request: ExperimentRequest): ExperimentState {
    const result = applyExperimentAction(experimentPlanOf(record), experimentStateOf(record), request);
    if (!result.ok) {
      const path =
        request.action === 'set_coverage' ? 'coverage' : request.action === 'ship' ? 'variant' : '';
      throw new AppError(
        result.error.code === 'illegal_transition' ? 'CONFLICT' : 'VALIDATION_FAILED',
        `${path === '' ? '' : `${path}: `}${result.error.message}`,
        { status: record.status, action: request.action, issues: [{ path, message: result.error.message }] },
      );
    }
    return result.state;
  }

  /**
   * Ships a variant: validates the rollout of the winner (same flag, environment and salt; first stage at the
   * share the winner already served), creates and starts it, then ends the experiment with the rollout's rule in
   * the experiment rule's place. Returns both.
   */
  async ship(
    id: string,
    body: {
      variant: string;
      rolloutId?: string;
      stages?: ExperimentShipInput['stages'];
      mode?: 'manual' | 'automatic';
    },
    actor: string,
  ): Promise<{ experiment: ExperimentRecord; rollout: RolloutRecord }> {
    const record = await this.get(id);
    const plan = experimentPlanOf(record);
    const shipped = this.transition(record, {
      action: 'ship',
      variant: body.variant,
      now: this.deps.clock.now(),
      actor,
    });
    const flag = await this.deps.flags.get(record.flag);
    if (!flag) throw new AppError('NOT_FOUND', `flag "${record.flag}" not found`);
    const surface =
      flag.flag.surface === undefined ? undefined : await this.deps.surfaces.get(flag.flag.surface);
    const rolloutId = body.rolloutId ?? generateId('ro_');
    const result = shipRolloutPlan(
      { plan, state: shipped },
      {
        id: rolloutId,
        ...(body.stages !== undefined ? { stages: body.stages } : {}),
        ...(body.mode !== undefined ? { mode: body.mode } : {}),
      },
      {
        flag: flag.flag,
        metrics: await this.metricMap(),
        surfaceRequired: surface?.surface.guardrails ?? [],
        activeRolloutOnFlagEnv: false,
      },
    );
    if (!result.ok) throw validationError(result.issues, 'ship');
    // The experiment's rule keeps serving the winner's units until the rollout's rule takes its place.
    let current = await this.persist(record, shipped, actor, 'experiment.ship', { rollout: rolloutId });
    const { record: draft } = await this.deps.rollouts.create(result.value as unknown as RolloutInput, actor);
    // The experiment's start was the reviewed decision; its winner's rollout starts without a second review.
    const rollout = await this.deps.rollouts.act(draft.id, 'start', actor, { approvalExempt: true });
    const after = await this.deps.flags.get(record.flag);
    if (after) {
      const document = takePlace(
        after.flag,
        record.environment,
        experimentRuleId(plan),
        `rollout-${rollout.id}`,
      );
      current = await this.commit(current, current, actor, [], { document, revision: after.revision });
    }
    return { experiment: current, rollout };
  }

  /**
   * One look: the results of the evidence recorded so far, stored with the experiment (never shipping; an abort
   * on deterioration is applied when the experiment's `autoAbort` is on). Null when not running.
   */
  async look(id: string): Promise<ExperimentResultRecord | null> {
    const record = await this.get(id);
    if (record.status !== 'running') return null;
    const plan = experimentPlanOf(record);
    const state = experimentStateOf(record);
    const now = this.deps.clock.now();
    const evidence = await this.evidence(record);
    const decision = decideExperiment({ ...plan, mode: 'manual' }, state, evidence, now);
    const { nextState, ...rest } = decision;
    const result = {
      experiment: id,
      at: now,
      recommendation: decision.recommendation,
      applied: false,
      decision: { ...rest, units: evidence.units } as unknown as Record<string, unknown>,
    };
    let next = nextState;
    if (decision.recommendation === 'abort' && record.autoAbort) {
      next = this.transition(
        { ...record, stateDoc: nextState },
        { action: 'abort', now, actor: CONTROLLER_ACTOR, reason: decision.reason },
      );
      result.applied = true;
    }
    try {
      await this.persist(record, next, CONTROLLER_ACTOR, 'experiment.look', {}, result);
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') return null;
      throw error;
    }
    return (await this.deps.experiments.latestResult(id)) ?? null;
  }

  /** The results of a look now (not stored). */
  async results(id: string): Promise<ExperimentResults> {
    const record = await this.get(id);
    const plan = experimentPlanOf(record);
    const evidence = await this.evidence(record);
    const decision = decideExperiment(
      { ...plan, mode: 'manual' },
      experimentStateOf(record),
      evidence,
      this.deps.clock.now(),
    );
    const { nextState: _next, ...rest } = decision;
    return resultsView(id, rest, evidence.units);
  }

  /** The evidence of the experiment from the per-variant statistics ingestion keeps. */
  private async evidence(record: ExperimentRecord): Promise<ExperimentEvidence> {
    const analysis = await this.deps.readAnalysis(experimentAnalysisKey(record.id), EXPERIMENT_ATTEMPT);
    return experimentEvidence(experimentPlanOf(record), record.metrics, analysis);
  }

  /** Stores a new state with the flag's experiment rule following `experimentRule`. */
  private async persist(
    record: ExperimentRecord,
    next: ExperimentState,
    actor: string,
    action: string,
    extra: { rollout?: string } = {},
    result?: ExperimentResultInput,
  ): Promise<ExperimentRecord> {
    const plan = experimentPlanOf(record);
    const now = this.deps.clock.now();
    const updated: ExperimentRecord = {
      ...record,
      status: next.status,
      stateDoc: next,
      updatedAt: now,
      ...(extra.rollout !== undefined ? { rollout: extra.rollout } : {}),
    };
    const flag = await this.deps.flags.get(record.flag);
    if (!flag) throw new AppError('NOT_FOUND', `flag "${record.flag}" not found`);
    const { document, changed } = withRule(
      flag.flag,
      record.environment,
      experimentRuleId(plan),
      experimentRule(plan, next),
    );
    const audits: AuditInput[] = [];
    if (action !== 'experiment.look' || next.status !== record.status)
      audits.push({
        at: now,
        actor,
        action,
        resourceType: 'experiment',
        resourceKey: record.id,
        environment: record.environment,
        before: snapshot(experimentStateOf(record)),
        after: snapshot(next),
      });
    return this.commit(
      record,
      updated,
      actor,
      audits,
      changed ? { document, revision: flag.revision } : undefined,
      result,
    );
  }

  private async commit(
    record: ExperimentRecord,
    updated: ExperimentRecord,
    actor: string,
    audits: AuditInput[],
    flagWrite: { document: FlagConfig; revision: number } | undefined,
    result?: ExperimentResultInput,
  ): Promise<ExperimentRecord> {
    const all = [...audits];
    if (flagWrite !== undefined) {
      const flag = await this.deps.flags.get(record.flag);
      all.push({
        at: this.deps.clock.now(),
        actor,
        action: 'flag.update',
        resourceType: 'flag',
        resourceKey: record.flag,
        environment: record.environment,
        before: flag === undefined ? null : { ...flag.flag, archived: flag.archived },
        after: { ...flagWrite.document, archived: flag?.archived ?? false },
      });
    }
    try {
      const out = await this.deps.experiments.commit(
        updated,
        {
          expectedRevision: record.revision,
          ...(flagWrite !== undefined ? { flag: flagWrite } : {}),
          ...(result !== undefined ? { result } : {}),
        },
        all,
      );
      if (out.changes.length > 0) await this.deps.announce(out.changes);
      return out.value;
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError(
          'CONFLICT',
          `experiment "${record.id}" or its flag was changed by another request, or another experiment runs on the flag; retry`,
        );
      if (error instanceof StoreNotFoundError) throw new AppError('NOT_FOUND', error.message);
      throw error;
    }
  }
}
