/**
 * Rollouts: creation from a plan validated by packages/rollout, the plan forecast, the lifecycle actions and the
 * controller's looks. Every change of a rollout is one store transaction with its flag's rule (packages/rollout's
 * `rolloutRule`), the config version bump, the decision row and the audit entries.
 */
import type {
  ChartHistory,
  DecisionRule,
  DecisionView,
  LastAction,
  PlanReply,
  Recommendation,
  RolloutHealth,
  RolloutPlanPreview,
} from '@dimmer/api';
import type { FlagConfig, ValidationIssue } from '@dimmer/core';
import {
  applyAction,
  CONTROLLER_ACTOR,
  createRolloutState,
  DAY_MS,
  type Decision,
  decide,
  forecastPlan,
  isRolloutActive,
  MINUTE_MS,
  MONITORED_STATUSES,
  type RolloutAction,
  type RolloutPlan,
  type RolloutState,
  rolloutRule,
  rolloutRuleId,
  validateRolloutPlan,
} from '@dimmer/rollout';
import type { DecidingLook } from '@dimmer/stats';
import type { Clock } from '../clock.ts';
import type { EnvironmentsStore } from '../environments/index.ts';
import { AppError, checkVersion } from '../errors.ts';
import {
  blockingRule,
  type FlagRecord,
  type FlagsStore,
  type OwnedRule,
  type RolloutRelease,
  withRule,
} from '../flags/index.ts';
import type { MetricDefinition, MetricsStore } from '../metrics/index.ts';
import { generateId } from '../secrets.ts';
import {
  type AuditInput,
  type ConfigChange,
  type LeaseFence,
  StoreConflictError,
  StoreNotFoundError,
} from '../storage/write.ts';
import type { SurfacesStore } from '../surfaces/index.ts';
import { alarmKey, alarmOf, type RolloutAlarm } from './alarms.ts';
import { chartHistory, DEFAULT_CHART_POINTS, MAX_CHART_POINTS } from './chart.ts';
import { buildEvidence, type EvidenceReport } from './evidence.ts';
import { adviseGatePower } from './forecast-power.ts';
import { relativeChangeOf } from './relative-change.ts';
import {
  ACTIVE_ROLLOUT_STATUSES,
  type DecisionInput,
  type DecisionPageQuery,
  type DecisionRecord,
  type RolloutRecord,
  type RolloutsStore,
  type RolloutTraffic,
} from './rollouts.store.ts';
import type { OutboxInput } from './webhooks.store.ts';

/** Traffic assumed by the forecast when nothing was observed or stated: units a day. */
export const DEFAULT_FORECAST_UNITS_PER_DAY = 10_000;
/** Shortest observation window the forecast trusts for a traffic rate, in milliseconds. */
export const MIN_OBSERVED_WINDOW_MS = 10 * MINUTE_MS;
/** Default and largest page of `GET /rollouts/{id}/decisions`. */
export const DEFAULT_DECISION_PAGE = 50;
export const MAX_DECISION_PAGE = 500;
/** Fields of `POST /rollouts` that are not part of the plan: the traffic the forecast assumes. */
const TRAFFIC_FIELDS = ['expectedUnitsPerDay', 'expectedBaselines'] as const;

/** Tries of a person's action when a look or another request keeps committing between its read and its write. */
export const MAX_ACTION_ATTEMPTS = 5;

export type { DecisionView, LastAction, PlanReply, Recommendation, RolloutHealth };

/** The rollout or its flag changed between the read and the write of a change (a CONFLICT the caller may retry). */
class ConcurrentChange extends AppError {
  constructor(message: string) {
    super('CONFLICT', message);
  }
}

/** What the notifier hears: a decision worth saying (applied, recommended, or a hold with a new rule), or a person's action. */
export interface RolloutNotice {
  type: 'rollout.decision' | 'rollout.action';
  rollout: string;
  flag: string;
  environment: string;
  at: string;
  actor: string;
  action: string;
  rule: string | null;
  reason: string | null;
  applied: boolean;
  from: { status: string; stage: number; reach: number };
  to: { status: string; stage: number; reach: number };
  decision: DecisionView | null;
}

/** What the notifier hears when a rollout goes into alarm or its causes change (`alarm` null: cleared). */
export interface RolloutAlarmNotice {
  type: 'rollout.alarm';
  rollout: string;
  flag: string;
  environment: string;
  at: string;
  status: string;
  stage: number;
  reach: number;
  alarm: RolloutAlarm | null;
}

/** Counters the composition root exports to Prometheus. */
export interface RolloutObserver {
  onDecision?(decision: DecisionRecord): void;
}

/**
 * Where notices go (the webhook outbox): a decision's or an action's rows are written in the transaction of the
 * change (`rows`), then `wake` starts their delivery; an alarm, which reports no stored change, is `send`.
 */
export interface NoticeOutbox {
  rows(notice: RolloutNotice): readonly OutboxInput[];
  wake(): void;
  /** Writes and delivers a notice on its own; never rejects (a failure is logged). */
  send(notice: RolloutAlarmNotice): void;
}

function validationError(issues: readonly ValidationIssue[]): AppError {
  const first = issues[0];
  const message =
    first === undefined
      ? 'invalid rollout'
      : `${first.path === '' ? '' : `${first.path}: `}${first.message}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`;
  return new AppError('VALIDATION_FAILED', message, { issues });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validates the traffic fields of a create body (not part of the plan). */
function parseTraffic(body: Record<string, unknown>, issues: ValidationIssue[]): RolloutTraffic | null {
  const traffic: RolloutTraffic = {};
  const units = body.expectedUnitsPerDay;
  if (units !== undefined) {
    if (typeof units === 'number' && Number.isFinite(units) && units > 0) traffic.expectedUnitsPerDay = units;
    else
      issues.push({
        path: 'expectedUnitsPerDay',
        message: `expected new units a day (a number above 0), got ${JSON.stringify(units)}`,
      });
  }
  const baselines = body.expectedBaselines;
  if (baselines !== undefined) {
    if (!isObject(baselines))
      issues.push({ path: 'expectedBaselines', message: 'expected { <metric>: { mean, variance? } }' });
    else {
      traffic.baselines = {};
      for (const [metric, b] of Object.entries(baselines)) {
        const path = `expectedBaselines.${metric}`;
        if (!isObject(b) || typeof b.mean !== 'number' || !Number.isFinite(b.mean)) {
          issues.push({ path, message: 'expected { mean, variance? } with a finite mean' });
          continue;
        }
        const extra = Object.keys(b).filter((k) => k !== 'mean' && k !== 'variance');
        if (extra.length > 0) issues.push({ path, message: `unknown field ${JSON.stringify(extra[0])}` });
        if (b.variance !== undefined && !(typeof b.variance === 'number' && b.variance > 0))
          issues.push({ path: `${path}.variance`, message: 'expected a variance above 0' });
        traffic.baselines[metric] = {
          mean: b.mean,
          ...(typeof b.variance === 'number' ? { variance: b.variance } : {}),
        };
      }
    }
  }
  return Object.keys(traffic).length > 0 ? traffic : null;
}

/** Reads the stored plan and state documents of a record. */
export function planOf(record: RolloutRecord): RolloutPlan {
  return record.plan as RolloutPlan;
}

export function stateOf(record: RolloutRecord): RolloutState {
  return (record.stateDoc as RolloutState | null) ?? createRolloutState();
}

/** The last action in a rollout's history (by a person or the controller), without the controller's reason. */
export function lastActionOf(record: RolloutRecord): Omit<LastAction, 'reason'> | null {
  const history = stateOf(record).history;
  for (let i = history.length - 1; i >= 0; i--) {
    const h = history[i];
    if (h === undefined || h.kind !== 'action' || h.actor === null) continue;
    return {
      actor: h.actor,
      by: h.actor === CONTROLLER_ACTOR ? 'controller' : 'person',
      action: h.action as LastAction['action'],
      at: new Date(h.at).toISOString(),
      rule: h.rule,
      stage: h.stageIndex,
      reach: h.reach,
    };
  }
  return null;
}

/**
 * The health shown in lists, from the status and the latest decision. A rollback by the controller is
 * `failing`; a person's rollback says nothing about the metrics, so its health is what the latest look said.
 */
export function healthOf(record: RolloutRecord, latest: DecisionRecord | undefined): RolloutHealth {
  if (record.state === 'rolled_back' && lastActionOf(record)?.by !== 'person') return 'failing';
  if (record.state === 'draft' || record.state === 'completed') return 'unknown';
  if (latest === undefined || latest.attempt !== record.attempt) return 'unknown';
  if (latest.action === 'rollback') return 'failing';
  if (latest.action === 'hold' && ['srm', 'missing_data', 'invalid_evidence'].includes(latest.rule))
    return 'warning';
  return 'healthy';
}

/** A stored decision as the API returns it, each metric look with the interval of its deciding test. */
export function decisionView(d: DecisionRecord): DecisionView {
  const looks = (d.evidence.metrics ?? {}) as Record<string, { summary?: DecidingLook | null }>;
  const metrics: Record<string, unknown> = {};
  for (const [name, look] of Object.entries(looks))
    metrics[name] = { ...look, relativeChange: relativeChangeOf(look.summary) };
  return {
    ...d.evidence,
    metrics,
    id: d.id,
    rollout: d.rollout,
    attempt: d.attempt,
    count: d.count,
    firstAt: new Date(d.firstAt).toISOString(),
    lastAt: new Date(d.at).toISOString(),
    at: new Date(d.at).toISOString(),
    action: d.action,
    rule: d.rule as DecisionRule,
    reason: d.reason,
    applied: d.applied,
    actor: CONTROLLER_ACTOR,
    // The stored evidence is packages/rollout's Decision, which carries the remaining fields.
  } as DecisionView;
}

/** The id of the experiment whose (running, marked) rule is on the flag in the environment, if any. */
function runningExperiment(flag: FlagConfig, environment: string): string | undefined {
  return flag.environments[environment]?.rules.find((r) => r.experiment !== undefined)?.experiment;
}

function snapshot(state: RolloutState): { status: string; stage: number; reach: number; attempt: number } {
  return { status: state.status, stage: state.stageIndex, reach: state.reach, attempt: state.attempt };
}

/**
 * Approvals a person's action may need (a surface's four-eyes rule): throws when they are missing. Rollbacks,
 * pauses and the controller's decisions never pass through it.
 */
export interface ApprovalGate<R> {
  check(record: R, action: 'start' | 'advance', nextReach: number | null): Promise<void>;
}

export class RolloutsService {
  /** The causes of each rollout's alarm at its last look (a notice goes out when they change). */
  readonly #alarms = new Map<string, string>();

  constructor(
    private readonly deps: {
      rollouts: RolloutsStore;
      flags: FlagsStore;
      metrics: MetricsStore;
      surfaces: SurfacesStore;
      environments: EnvironmentsStore;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
      observer?: RolloutObserver;
      notices?: NoticeOutbox;
      /** The approval gate of a person's start and advance (the people feature); absent: none required. */
      approvals?: ApprovalGate<RolloutRecord>;
    },
  ) {}

  async get(id: string): Promise<RolloutRecord> {
    const record = await this.deps.rollouts.get(id);
    if (!record) throw new AppError('NOT_FOUND', `rollout "${id}" not found`);
    return record;
  }

  /**
   * Validates a create body exactly as `create` does (same errors, nothing written): the plan, the traffic
   * fields, the flag, no other active rollout or running experiment on it, and an unused id.
   */
  async #validate(body: unknown): Promise<{
    plan: RolloutPlan;
    traffic: RolloutTraffic | null;
    metrics: Record<string, MetricDefinition>;
    flag: FlagRecord;
    surfaceRequired: { metric: string; margin: number }[];
  }> {
    if (!isObject(body)) throw validationError([{ path: '', message: 'expected a rollout plan object' }]);
    const issues: ValidationIssue[] = [];
    const traffic = parseTraffic(body, issues);
    const input: Record<string, unknown> = { ...body };
    for (const field of TRAFFIC_FIELDS) delete input[field];
    if (input.id === undefined) input.id = generateId('ro_');
    if (typeof input.flag !== 'string')
      throw validationError([
        { path: 'flag', message: `expected the key of a flag, got ${JSON.stringify(input.flag)}` },
        ...issues,
      ]);
    const flag = await this.deps.flags.get(input.flag);
    if (!flag || flag.archived)
      throw validationError([
        { path: 'flag', message: `unknown flag ${JSON.stringify(input.flag)}` },
        ...issues,
      ]);
    const metricRecords = await this.deps.metrics.list();
    const metrics: Record<string, MetricDefinition> = {};
    for (const m of metricRecords) metrics[m.metric.key] = m.metric;
    const surface =
      flag.flag.surface === undefined ? undefined : await this.deps.surfaces.get(flag.flag.surface);
    const surfaceRequired = (surface?.surface.guardrails ?? []).map((g) => ({
      metric: g.metric,
      margin: g.margin ?? metrics[g.metric]?.margin ?? 0,
    }));
    const result = validateRolloutPlan(input, {
      flag: flag.flag,
      metrics,
      surfaceRequired: surface?.surface.guardrails ?? [],
      activeRolloutOnFlagEnv: false,
    });
    if (!result.ok || issues.length > 0)
      throw validationError([...(result.ok ? [] : result.issues), ...issues]);
    const plan = result.value;
    const active = (await this.deps.rollouts.list({ flag: plan.flag })).find(
      (r) => r.environment === plan.environment && isRolloutActive(r.state),
    );
    if (active !== undefined)
      throw new AppError(
        'CONFLICT',
        `flag: ${plan.flag} already has an active rollout (${active.id}, ${active.state}) in ${plan.environment}; complete it first`,
        { issues: [{ path: 'flag', message: `rollout ${active.id} is ${active.state} on this flag` }] },
      );
    const experiment = runningExperiment(flag.flag, plan.environment);
    if (experiment !== undefined)
      throw new AppError(
        'CONFLICT',
        `flag: ${plan.flag} has a running experiment (${experiment}) in ${plan.environment}; end or ship it first`,
        { issues: [{ path: 'flag', message: `experiment ${experiment} is running on this flag` }] },
      );
    if (typeof input.id === 'string' && body.id !== undefined && (await this.deps.rollouts.get(plan.id)))
      throw new AppError('CONFLICT', `rollout "${plan.id}" exists`, {
        issues: [{ path: 'id', message: `rollout ${plan.id} exists` }],
      });
    return { plan, traffic, metrics, flag, surfaceRequired };
  }

  /**
   * Creates a draft rollout from a plan (validated by packages/rollout: the surface's required metrics added,
   * reach strictly rising, variants of the flag) plus optional `expectedUnitsPerDay` / `expectedBaselines` for
   * the forecast. VALIDATION_FAILED with every issue's path, CONFLICT when the flag already has an active
   * rollout in the environment; nothing is written on rejection.
   */
  async create(body: unknown, actor: string): Promise<{ record: RolloutRecord; forecast: PlanReply }> {
    const { plan, traffic, metrics } = await this.#validate(body);
    const record = this.#draft(plan, traffic, metrics);
    let created: RolloutRecord;
    try {
      created = await this.deps.rollouts.create(record, {
        at: record.createdAt,
        actor,
        action: 'rollout.create',
        resourceType: 'rollout',
        resourceKey: record.id,
        environment: record.environment,
        before: null,
        after: { plan, traffic },
      });
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `rollout "${record.id}" exists`, {
          issues: [{ path: 'id', message: `rollout ${record.id} exists` }],
        });
      throw error;
    }
    return { record: created, forecast: await this.forecast(created) };
  }

  /** A draft record of a validated plan (not stored). */
  #draft(
    plan: RolloutPlan,
    traffic: RolloutTraffic | null,
    metrics: Record<string, MetricDefinition>,
  ): RolloutRecord {
    const state = createRolloutState();
    const now = this.deps.clock.now();
    return {
      id: plan.id,
      flag: plan.flag,
      environment: plan.environment,
      treatment: plan.treatment,
      control: plan.control,
      state: state.status,
      stage: state.stageIndex,
      reach: state.reach,
      attempt: state.attempt,
      guardrails: plan.guardrails.map((g) => g.metric),
      metrics: plan.guardrails.map((g) => metrics[g.metric] as MetricDefinition),
      plan,
      stateDoc: state,
      traffic,
      revision: 1,
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * The dry run of `create`: the same validation and errors, then the plan as it would be stored, the forecast
   * (at the stated traffic, else the traffic the flag's last rollout in the environment observed), the
   * surface's required guardrails, each stage's expected schedule and what it can detect, and warnings (flag
   * off, final gate short of 80% power, forecast caveats). Stores nothing.
   */
  async planPreview(body: unknown): Promise<RolloutPlanPreview> {
    const { plan, traffic, metrics, flag, surfaceRequired } = await this.#validate(body);
    const warnings: RolloutPlanPreview['warnings'] = [];
    let stated = traffic;
    if (stated?.expectedUnitsPerDay === undefined) {
      const seen = await this.#observedTraffic(plan.flag, plan.environment);
      if (seen !== null) {
        stated = { ...(stated ?? {}), expectedUnitsPerDay: seen.unitsPerDay };
        warnings.push({
          code: 'forecast',
          message: `traffic: ${Math.round(seen.unitsPerDay).toLocaleString('en-US')} units a day, as observed by rollout ${seen.rollout} of this flag in ${plan.environment}`,
        });
      }
    }
    const forecast = await this.forecast(this.#draft(plan, stated, metrics));
    const enabled = flag.flag.environments[plan.environment]?.enabled === true;
    if (!enabled)
      warnings.push({
        code: 'flag_disabled',
        message: `flag ${plan.flag} is off in ${plan.environment}: everyone gets its default variant, so the rollout cannot start until the flag is enabled`,
      });
    if (forecast.gatePower) warnings.push({ code: 'low_power', message: forecast.gatePower.message });
    for (const w of forecast.forecast.warnings)
      if (w !== forecast.gatePower?.message) warnings.push({ code: 'forecast', message: w });
    let elapsed = 0;
    const schedule = forecast.forecast.stages.map((st) => {
      const length = (st as { expectedDurationMs?: number }).expectedDurationMs ?? st.durationMs;
      const startsAfterMs = elapsed;
      elapsed += length;
      const detects: Record<string, number | null> = {};
      for (const [m, mde] of Object.entries(st.mdePerMetric)) detects[m] = mde?.relative ?? null;
      return { index: st.index, reach: st.reach, startsAfterMs, endsAfterMs: elapsed, detects };
    });
    return {
      plan: plan as unknown as RolloutPlanPreview['plan'],
      forecast,
      requiredGuardrails: surfaceRequired,
      flagEnabled: enabled,
      schedule,
      warnings,
    };
  }

  /** Units a day the newest started rollout of the flag in the environment observed, if any. */
  async #observedTraffic(
    flag: string,
    environment: string,
  ): Promise<{ rollout: string; unitsPerDay: number } | null> {
    const previous = (await this.deps.rollouts.list({ flag }))
      .filter((r) => r.environment === environment && r.state !== 'draft')
      .reverse();
    for (const r of previous) {
      const reply = await this.forecast(r);
      if (reply.traffic.source === 'observed')
        return { rollout: r.id, unitsPerDay: reply.traffic.unitsPerDay };
    }
    return null;
  }

  /** Rollouts by creation time with their latest decision (for health), optionally of one flag or environment. */
  async list(
    filter: { flag?: string; environment?: string; status?: string } = {},
  ): Promise<{ record: RolloutRecord; latest: DecisionRecord | undefined }[]> {
    const records = (
      await this.deps.rollouts.list({
        ...(filter.flag !== undefined ? { flag: filter.flag } : {}),
        ...(filter.environment !== undefined ? { environment: filter.environment } : {}),
      })
    ).filter((r) => filter.status === undefined || r.state === filter.status);
    return Promise.all(
      records.map(async (record) => ({
        record,
        latest: (await this.deps.rollouts.listDecisions(record.id, { limit: 1 }))[0],
      })),
    );
  }

  /**
   * Entries of a rollout's decision log: newest first (`beforeId` pages back), or with `afterSeq` those written
   * or updated since that cursor, oldest change first; optionally only some actions. `cursor` is where the next
   * incremental read starts.
   */
  async decisions(
    id: string,
    page: Partial<DecisionPageQuery> = {},
  ): Promise<{ decisions: DecisionRecord[]; cursor: number }> {
    await this.get(id);
    const limit = Math.min(MAX_DECISION_PAGE, Math.max(1, page.limit ?? DEFAULT_DECISION_PAGE));
    const cursor = await this.deps.rollouts.decisionCursor(id);
    const decisions = await this.deps.rollouts.listDecisions(id, {
      limit,
      ...(page.beforeId !== undefined ? { beforeId: page.beforeId } : {}),
      ...(page.afterSeq !== undefined ? { afterSeq: page.afterSeq } : {}),
      ...(page.actions !== undefined ? { actions: page.actions } : {}),
    });
    // A full page of changes ends where it ends; the next read continues after its last entry.
    const last = decisions[decisions.length - 1];
    const next =
      page.afterSeq !== undefined && decisions.length === limit && last !== undefined ? last.seq : cursor;
    return { decisions, cursor: Math.max(page.afterSeq ?? 0, next) };
  }

  /** Who or what acted last, with the controller's reason from the decision that applied the action. */
  async lastAction(record: RolloutRecord): Promise<LastAction | null> {
    const last = lastActionOf(record);
    if (last === null) return null;
    let reason: string | null = null;
    if (
      last.by === 'controller' &&
      last.action !== 'start' &&
      last.action !== 'pause' &&
      last.action !== 'resume'
    ) {
      const [d] = await this.deps.rollouts.listDecisions(record.id, { limit: 1, actions: [last.action] });
      if (d?.applied && d.at === Date.parse(last.at)) reason = d.reason;
    }
    return { ...last, reason };
  }

  /** The latest decision, and the recommendation a person has not acted on (same attempt, stage and status). */
  async latest(
    record: RolloutRecord,
  ): Promise<{ latest: DecisionRecord | undefined; recommendation: Recommendation | null }> {
    const latest = (await this.deps.rollouts.listDecisions(record.id, { limit: 1 }))[0];
    const made = latest?.evidence as
      | { stageIndex?: number; status?: string; toStage?: number | null }
      | undefined;
    const pending =
      latest !== undefined &&
      !latest.applied &&
      latest.action !== 'hold' &&
      latest.attempt === record.attempt &&
      made?.stageIndex === record.stage &&
      made?.status === record.state;
    return {
      latest,
      recommendation: pending
        ? {
            action: latest.action,
            rule: latest.rule as DecisionRule,
            reason: latest.reason,
            at: new Date(latest.at).toISOString(),
            toStage: made?.toStage ?? null,
            decision: latest.id,
          }
        : null,
    };
  }

  /**
   * Applies a person's action (start, advance, pause, resume, rollback, complete) through packages/rollout's
   * state machine, in one transaction with the flag's rule, the config version bump and the audit entries.
   * CONFLICT when the action is not allowed in the current status, or when `version` is stale (a rollback is
   * applied whatever version it names).
   *
   * A controller look (or another request) committing between this action's read and its write does not fail
   * it: the action is tried again on the fresh state, up to MAX_ACTION_ATTEMPTS times. A rollback or a pause
   * always applies to the fresh state; any other action applies again only when the rollout is still at the
   * status, stage and attempt it was read at (a hold in between changed only the tests' state), and answers
   * with the fresh rollout when the change already moved it exactly where this action would have.
   */
  async act(
    id: string,
    action: RolloutAction,
    actor: string,
    options: { version?: number; approvalExempt?: boolean } = {},
  ): Promise<RolloutRecord> {
    const first = await this.get(id);
    if (action !== 'rollback') checkVersion(`rollout "${id}"`, options.version, first.revision);
    let record = first;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#applyAction(record, action, actor, options.approvalExempt === true);
      } catch (error) {
        if (!(error instanceof ConcurrentChange) || attempt >= MAX_ACTION_ATTEMPTS) throw error;
      }
      record = await this.get(id);
      const settled = this.#revalidate(first, record, action, actor);
      if (settled !== undefined) return settled;
    }
  }

  /**
   * After a concurrent change: the fresh record when it already is where `action` would have taken `first`
   * (nothing more to apply), undefined when the action applies to it again, CONFLICT when the rollout moved
   * elsewhere and only a safety action (rollback, pause) may still be applied.
   */
  #revalidate(
    first: RolloutRecord,
    fresh: RolloutRecord,
    action: RolloutAction,
    actor: string,
  ): RolloutRecord | undefined {
    const at = (r: { status: string; stageIndex: number; attempt: number }) =>
      `${r.status}/${r.stageIndex}/${r.attempt}`;
    if (
      (action === 'rollback' && fresh.state === 'rolled_back') ||
      (action === 'pause' && fresh.state === 'paused')
    )
      return fresh;
    const now = at(stateOf(fresh));
    const intended = applyAction(planOf(first), stateOf(first), action, this.deps.clock.now(), actor);
    if (intended.ok && at(intended.state) === now) return fresh;
    if (action === 'rollback' || action === 'pause' || at(stateOf(first)) === now) return undefined;
    throw new AppError(
      'CONFLICT',
      `rollout "${fresh.id}" moved from ${first.state} at stage ${first.stage + 1} to ${fresh.state} at stage ${fresh.stage + 1} while the ${action} was being applied; it was not applied: look at the rollout and act again`,
      { status: fresh.state, stage: fresh.stage, action },
    );
  }

  /** One try of an action on the rollout as read (ConcurrentChange when it changed before the write). */
  async #applyAction(
    record: RolloutRecord,
    action: RolloutAction,
    actor: string,
    approvalExempt: boolean,
  ): Promise<RolloutRecord> {
    const id = record.id;
    const plan = planOf(record);
    const state = stateOf(record);
    const now = this.deps.clock.now();
    const result = applyAction(plan, state, action, now, actor);
    if (!result.ok)
      throw new AppError(
        result.error.code === 'illegal_transition' ? 'CONFLICT' : 'BAD_REQUEST',
        result.error.message,
        { status: record.state, action },
      );
    if ((action === 'start' || action === 'advance') && !approvalExempt)
      await this.deps.approvals?.check(record, action, result.state.reach);
    if (result.state.status === 'running' && !MONITORED_STATUSES.includes(record.state))
      await this.#checkReachable(record, plan);
    if (action === 'start') {
      const other = (await this.deps.rollouts.list({ flag: record.flag })).find(
        (r) => r.id !== record.id && r.environment === record.environment && isRolloutActive(r.state),
      );
      if (other !== undefined)
        throw new AppError(
          'CONFLICT',
          `flag ${record.flag} already has an active rollout (${other.id}) in ${record.environment}`,
        );
      const flag = await this.deps.flags.get(record.flag);
      const experiment = flag === undefined ? undefined : runningExperiment(flag.flag, record.environment);
      if (experiment !== undefined)
        throw new AppError(
          'CONFLICT',
          `flag: ${record.flag} has a running experiment (${experiment}) in ${record.environment}; end or ship it first`,
          { issues: [{ path: 'flag', message: `experiment ${experiment} is running on this flag` }] },
        );
    }
    const audits: AuditInput[] = [
      {
        at: now,
        actor,
        action: `rollout.${action}`,
        resourceType: 'rollout',
        resourceKey: id,
        environment: record.environment,
        before: snapshot(state),
        after: snapshot(result.state),
      },
    ];
    const notice: RolloutNotice = {
      type: 'rollout.action',
      rollout: id,
      flag: record.flag,
      environment: record.environment,
      at: new Date(now).toISOString(),
      actor,
      action,
      rule: null,
      reason: null,
      applied: true,
      from: { status: state.status, stage: state.stageIndex, reach: state.reach },
      to: { status: result.state.status, stage: result.state.stageIndex, reach: result.state.reach },
      decision: null,
    };
    const saved = await this.persist(record, result.state, {
      audits,
      forceFlag: true,
      actor,
      outbox: () => this.#noticeRows(notice),
    });
    this.deps.notices?.wake();
    return saved;
  }

  /**
   * A rollout about to serve (start, or resume after a rollback) must be able to reach someone: the flag exists,
   * is not archived, is enabled in the environment, and no rule before the rollout's serves everyone.
   * VALIDATION_FAILED with the reason otherwise; nothing is written.
   */
  async #checkReachable(record: RolloutRecord, plan: RolloutPlan): Promise<void> {
    const flag = await this.deps.flags.get(record.flag);
    const refuse = (path: string, message: string): never => {
      throw new AppError('VALIDATION_FAILED', `cannot start rollout ${record.id}: ${message}`, {
        issues: [{ path, message }],
      });
    };
    if (!flag || flag.archived) return refuse('flag', `flag ${record.flag} is ${flag ? 'archived' : 'gone'}`);
    const env = flag.flag.environments[record.environment];
    if (env?.enabled !== true)
      return refuse(
        `flag.environments.${record.environment}.enabled`,
        `flag ${record.flag} is disabled in ${record.environment}, so everyone gets its default variant and nobody would be treated; enable the flag first`,
      );
    const blocker = blockingRule(env.rules, rolloutRuleId(plan));
    if (blocker !== undefined)
      refuse(
        `flag.environments.${record.environment}.rules`,
        `rule "${blocker.id}" of flag ${record.flag} in ${record.environment} serves everyone before the rollout's rule, so nobody would reach it; give that rule a condition or remove it first`,
      );
  }

  /** Rules owned by the flag's rollouts in an active status, as their state says they must read. */
  async ownedRules(flag: string): Promise<OwnedRule[]> {
    const records = (await this.deps.rollouts.list({ flag })).filter((r) =>
      ACTIVE_ROLLOUT_STATUSES.includes(r.state),
    );
    const owned: OwnedRule[] = [];
    for (const r of records) {
      const rule = rolloutRule(planOf(r), stateOf(r));
      if (rule !== null)
        owned.push({
          rollout: r.id,
          environment: r.environment,
          state: r.state,
          monitored: MONITORED_STATUSES.includes(r.state),
          rule,
        });
    }
    return owned;
  }

  /** Pauses or rolls back a rollout (disable or archive of its flag); nothing when it already is. */
  async release(id: string, action: RolloutRelease, actor: string): Promise<void> {
    const record = await this.get(id);
    if (action === 'pause' && record.state === 'paused') return;
    if (action === 'rollback' && record.state === 'rolled_back') return;
    await this.act(id, action, actor);
  }

  /** Health, alarm and last action of a rollout: `alarm` outranks the health read from the latest decision. */
  async condition(
    record: RolloutRecord,
    latest: DecisionRecord | undefined,
  ): Promise<{ health: RolloutHealth; alarm: RolloutAlarm | null; lastAction: LastAction | null }> {
    const alarm = await this.alarm(record, latest);
    return {
      health: alarm !== null ? 'alarm' : healthOf(record, latest),
      alarm,
      lastAction: await this.lastAction(record),
    };
  }

  /** The alarm of a rollout now, or null when it can decide (or is not monitored). */
  async alarm(
    record: RolloutRecord,
    latest: DecisionRecord | undefined,
    known?: EvidenceReport,
  ): Promise<RolloutAlarm | null> {
    if (!MONITORED_STATUSES.includes(record.state)) return null;
    const report =
      known ?? buildEvidence(record, await this.deps.rollouts.readAnalysis(record.id, record.attempt));
    return alarmOf({
      record,
      plan: planOf(record),
      state: stateOf(record),
      flag: await this.deps.flags.get(record.flag),
      units: report.evidence.units,
      invalidMetrics: Object.entries(report.evidence.metrics)
        .filter(([, m]) => m.validity === 'invalid')
        .map(([metric, m]) => ({ metric, reason: m.invalidReason ?? 'unusable statistics' })),
      latest,
      now: this.deps.clock.now(),
    });
  }

  /** Every monitored rollout with whether it is in alarm (the `dimmer_rollout_alarm` gauge). */
  async alarms(): Promise<{ id: string; state: string; alarmed: boolean }[]> {
    const out: { id: string; state: string; alarmed: boolean }[] = [];
    for (const record of await this.deps.rollouts.list()) {
      if (!MONITORED_STATUSES.includes(record.state)) continue;
      const latest = (await this.deps.rollouts.listDecisions(record.id, { limit: 1 }))[0];
      out.push({ id: record.id, state: record.state, alarmed: (await this.alarm(record, latest)) !== null });
    }
    return out;
  }

  /** After a look: a `rollout.alarm` notice when the alarm's causes changed since the last look. */
  async #noticeAlarm(before: RolloutRecord, latest: DecisionRecord, report: EvidenceReport): Promise<void> {
    const id = before.id;
    // A hold leaves status and stage as they were: the evidence just read still describes the rollout.
    const record = latest.applied ? await this.get(id) : before;
    const alarm = await this.alarm(record, latest, latest.applied ? undefined : report);
    const key = alarmKey(alarm);
    if ((this.#alarms.get(id) ?? '') === key) return;
    if (key === '') this.#alarms.delete(id);
    else this.#alarms.set(id, key);
    this.deps.notices?.send({
      type: 'rollout.alarm',
      rollout: id,
      flag: record.flag,
      environment: record.environment,
      at: new Date(this.deps.clock.now()).toISOString(),
      status: record.state,
      stage: record.stage,
      reach: record.reach,
      alarm,
    });
  }

  /**
   * One look of the controller at one rollout: evidence → decide → store (state with the sequential tests, the
   * decision row, the flag's rule when reach changed, audit with actor `controller`). Returns the stored
   * decision, or null when the rollout is not monitored or was changed meanwhile (the next look retries). With a
   * `fence`, the decision is stored only while the controller's lease is still held (StoreFencedError otherwise).
   */
  async look(id: string, fence?: LeaseFence): Promise<DecisionRecord | null> {
    const record = await this.get(id);
    if (!MONITORED_STATUSES.includes(record.state)) return null;
    const plan = planOf(record);
    const state = stateOf(record);
    const report = buildEvidence(record, await this.deps.rollouts.readAnalysis(id, record.attempt));
    const now = this.deps.clock.now();
    const decision: Decision = decide(plan, state, report.evidence, now);
    const { nextState, ...rest } = decision;
    const previous = (await this.deps.rollouts.listDecisions(id, { limit: 1 }))[0];
    const prevStage = (previous?.evidence as { stageIndex?: number } | undefined)?.stageIndex;
    const notable =
      decision.applied ||
      previous === undefined ||
      previous.attempt !== decision.attempt ||
      previous.action !== decision.action ||
      previous.rule !== decision.rule ||
      prevStage !== decision.stageIndex;
    const row: DecisionInput = {
      rollout: id,
      attempt: decision.attempt,
      at: now,
      action: decision.action,
      rule: decision.rule,
      reason: decision.reason,
      applied: decision.applied,
      evidence: rest as unknown as Record<string, unknown>,
    };
    const audits: AuditInput[] = [];
    if (notable)
      audits.push({
        at: now,
        actor: CONTROLLER_ACTOR,
        action: 'rollout.decision',
        resourceType: 'rollout',
        resourceKey: id,
        environment: record.environment,
        before: snapshot(state),
        after: {
          ...snapshot(nextState),
          decision: {
            action: decision.action,
            rule: decision.rule,
            reason: decision.reason,
            applied: decision.applied,
          },
        },
      });
    const notice = (decisionId: number | null): RolloutNotice => ({
      type: 'rollout.decision',
      rollout: id,
      flag: record.flag,
      environment: record.environment,
      at: new Date(now).toISOString(),
      actor: CONTROLLER_ACTOR,
      action: decision.action,
      rule: decision.rule,
      reason: decision.reason,
      applied: decision.applied,
      from: { status: state.status, stage: state.stageIndex, reach: state.reach },
      to: { status: nextState.status, stage: nextState.stageIndex, reach: nextState.reach },
      // A notable decision differs from the one before it, so it starts its own entry of the log.
      decision: decisionView({ ...row, id: decisionId ?? 0, count: 1, firstAt: row.at, seq: 0 }),
    });
    let stored: DecisionRecord;
    try {
      stored = await this.persist(record, nextState, {
        audits,
        decision: row,
        forceFlag: false,
        actor: CONTROLLER_ACTOR,
        returnDecision: true,
        ...(fence !== undefined ? { fence } : {}),
        // The notice carries the decision with its id: its rows are made inside the transaction that stores it.
        ...(notable ? { outbox: (decisionId: number | null) => this.#noticeRows(notice(decisionId)) } : {}),
      });
    } catch (error) {
      if (error instanceof AppError && error.code === 'CONFLICT') return null;
      throw error;
    }
    this.deps.observer?.onDecision?.(stored);
    if (notable) this.deps.notices?.wake();
    await this.#noticeAlarm(record, stored, report);
    return stored;
  }

  /** Ids of the rollouts the controller looks at (running, paused, holding), oldest first. */
  async monitoredIds(): Promise<string[]> {
    return (await this.deps.rollouts.list())
      .filter((r) => MONITORED_STATUSES.includes(r.state))
      .map((r) => r.id);
  }

  /**
   * The plan forecast at the traffic observed in the current attempt (units per day since it started), else the
   * `expectedUnitsPerDay` given on create, else a default with a warning; baselines from the control arm, else
   * the `expectedBaselines` given on create.
   */
  async forecast(record: RolloutRecord): Promise<PlanReply> {
    const plan = planOf(record);
    const state = stateOf(record);
    const report = buildEvidence(record, await this.deps.rollouts.readAnalysis(record.id, record.attempt));
    const warnings: string[] = [];
    const units = report.evidence.units.treatment + report.evidence.units.control;
    const elapsed = state.startedAt === null ? 0 : this.deps.clock.now() - state.startedAt;
    let unitsPerDay: number;
    let source: PlanReply['traffic']['source'];
    if (units > 0 && elapsed >= MIN_OBSERVED_WINDOW_MS) {
      unitsPerDay = (units * DAY_MS) / elapsed;
      source = 'observed';
    } else if (record.traffic?.expectedUnitsPerDay !== undefined) {
      unitsPerDay = record.traffic.expectedUnitsPerDay;
      source = 'expected';
    } else {
      unitsPerDay = DEFAULT_FORECAST_UNITS_PER_DAY;
      source = 'default';
      warnings.push(
        `no traffic observed yet and no expectedUnitsPerDay given: the forecast assumes ${DEFAULT_FORECAST_UNITS_PER_DAY.toLocaleString('en-US')} new units a day`,
      );
    }
    const baselines: PlanReply['traffic']['baselines'] = {};
    for (const g of plan.guardrails) {
      const estimates = report.estimates.find((e) => e.metric === g.metric);
      const control = estimates?.arms.control;
      // A quantile guardrail is compared on the relative scale: control 1, per-unit variance of the log ratio.
      const quantile = estimates?.quantile;
      if (g.kind === 'quantile' && quantile && quantile.unitVariance > 0) {
        baselines[g.metric] = { mean: 1, variance: quantile.unitVariance, source: 'observed' };
        continue;
      }
      if (g.kind !== 'quantile' && control && control.n >= 2 && control.variance > 0) {
        baselines[g.metric] = {
          mean: control.mean,
          variance: control.variance * control.n,
          source: 'observed',
        };
        continue;
      }
      const stated = record.traffic?.baselines?.[g.metric];
      if (stated === undefined) continue;
      const variance =
        stated.variance ?? (g.kind === 'proportion' ? stated.mean * (1 - stated.mean) : Number.NaN);
      if (variance > 0) baselines[g.metric] = { mean: stated.mean, variance, source: 'expected' };
    }
    for (const g of plan.guardrails)
      if (baselines[g.metric] === undefined)
        warnings.push(
          `${g.metric}: no data yet and no expectedBaselines.${g.metric} in the plan, so what each stage can detect is unknown: state its expected mean${g.kind === 'proportion' ? '' : ' and variance'} (e.g. expectedBaselines: { ${g.metric}: { mean: … } })`,
        );
    const traffic = { unitsPerDay, baselines };
    const forecast = forecastPlan(plan, traffic);
    const gatePower = adviseGatePower(plan, traffic, forecast);
    return {
      rollout: record.id,
      traffic: { unitsPerDay, source, baselines },
      forecast: {
        ...forecast,
        warnings: [...(gatePower === null ? [] : [gatePower.message]), ...warnings, ...forecast.warnings],
      },
      gatePower,
    };
  }

  /**
   * The chart history over every look of the rollout (or those after the `after` cursor), downsampled to at
   * most `points` looks (see `keptLooks`), boundaries carried over looks too early to spend α.
   */
  async chart(id: string, query: { after?: number; points?: number } = {}): Promise<ChartHistory> {
    await this.get(id);
    const budget = Math.min(MAX_CHART_POINTS, Math.max(2, query.points ?? DEFAULT_CHART_POINTS));
    const all = await this.deps.rollouts.listLooks(id);
    const after = query.after ?? 0;
    const looks = all.filter((l) => l.id > after);
    const previous = all.filter((l) => l.id <= after);
    const last = all[all.length - 1];
    return chartHistory(id, looks, { budget, cursor: Math.max(after, last?.id ?? 0), previous });
  }

  /** The current attempt's evidence (what `decide` reads) and estimates. */
  async evidence(id: string): Promise<EvidenceReport> {
    const rollout = await this.get(id);
    return buildEvidence(rollout, await this.deps.rollouts.readAnalysis(id, rollout.attempt));
  }

  /** The outbox rows of a notice (none without a notifier or URLs). */
  #noticeRows(notice: RolloutNotice): readonly OutboxInput[] {
    return this.deps.notices?.rows(notice) ?? [];
  }

  /**
   * Stores a new state: the record's columns follow the state, the flag's rule follows `rolloutRule` (written
   * when it changed, or always for a person's action so the flag update and version bump are one transaction).
   */
  private async persist(
    record: RolloutRecord,
    next: RolloutState,
    options: {
      audits: AuditInput[];
      decision?: DecisionInput;
      forceFlag: boolean;
      actor: string;
      returnDecision: true;
      fence?: LeaseFence;
      outbox?: (decisionId: number | null) => readonly OutboxInput[];
    },
  ): Promise<DecisionRecord>;
  private async persist(
    record: RolloutRecord,
    next: RolloutState,
    options: {
      audits: AuditInput[];
      decision?: DecisionInput;
      forceFlag: boolean;
      actor: string;
      outbox?: (decisionId: number | null) => readonly OutboxInput[];
    },
  ): Promise<RolloutRecord>;
  private async persist(
    record: RolloutRecord,
    next: RolloutState,
    options: {
      audits: AuditInput[];
      decision?: DecisionInput;
      forceFlag: boolean;
      actor: string;
      returnDecision?: boolean;
      fence?: LeaseFence;
      outbox?: (decisionId: number | null) => readonly OutboxInput[];
    },
  ): Promise<RolloutRecord | DecisionRecord> {
    const plan = planOf(record);
    const now = this.deps.clock.now();
    const updated: RolloutRecord = {
      ...record,
      state: next.status,
      stage: next.stageIndex,
      reach: next.reach,
      attempt: next.attempt,
      stateDoc: next,
      updatedAt: now,
    };
    let flagWrite: { document: FlagConfig; revision: number } | undefined;
    const flag: FlagRecord | undefined = await this.deps.flags.get(record.flag);
    if (!flag) throw new AppError('NOT_FOUND', `flag "${record.flag}" not found`);
    const rule = rolloutRule(plan, next);
    const { document, changed } = withRule(flag.flag, record.environment, rolloutRuleId(plan), rule);
    const audits = [...options.audits];
    if (changed || (options.forceFlag && rule !== null)) {
      flagWrite = { document, revision: flag.revision };
      audits.push({
        at: now,
        actor: options.actor,
        action: 'flag.update',
        resourceType: 'flag',
        resourceKey: flag.flag.key,
        environment: record.environment,
        before: { ...flag.flag, archived: flag.archived },
        after: { ...document, archived: flag.archived },
      });
    }
    try {
      const result = await this.deps.rollouts.commit(
        updated,
        {
          expectedRevision: record.revision,
          ...(flagWrite !== undefined ? { flag: flagWrite } : {}),
          ...(options.decision !== undefined ? { decision: options.decision } : {}),
          ...(options.fence !== undefined ? { fence: options.fence } : {}),
          ...(options.outbox !== undefined ? { outbox: options.outbox } : {}),
        },
        audits,
      );
      if (result.changes.length > 0) await this.deps.announce(result.changes);
      if (options.returnDecision !== true) return result.value.rollout;
      if (result.value.decision === null) throw new Error('the store wrote no decision');
      return result.value.decision;
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new ConcurrentChange(
          `rollout "${record.id}" or its flag was changed by another request, or another rollout is active on the flag; retry`,
        );
      if (error instanceof StoreNotFoundError) throw new AppError('NOT_FOUND', error.message);
      throw error;
    }
  }
}
