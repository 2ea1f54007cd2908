/**
 * Surfaces: areas of the product whose flags share required guardrails. A surface names existing metrics with
 * optional margins; it cannot be deleted while a flag belongs to it.
 */
import { randomBytes } from 'node:crypto';
import type { HoldbackReport, SurfaceHoldbackView, SurfaceView } from '@dimmer/api';
import { type FlagConfig, reachToBuckets } from '@dimmer/core';
import type { Clock } from '../clock.ts';
import { AppError, checkVersion } from '../errors.ts';
import type { MetricDefinition } from '../metrics/index.ts';
import type { RolloutAnalysis } from '../rollouts/index.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import { holdbackAnalysisKey } from './holdback-naming.ts';
import { holdbackReport } from './holdback-report.ts';
import type { Surface, SurfaceHoldback, SurfaceRecord, SurfacesStore } from './surfaces.store.ts';

export type { SurfaceView };

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const MAX_KEY_LENGTH = 128;
const MAX_NAME_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2_000;
const MAX_GUARDRAILS = 50;
const FIELDS = new Set(['key', 'name', 'description', 'guardrails', 'approvals']);
const MAX_APPROVALS = 10;
const ENVIRONMENT_KEY = /^[a-z0-9][a-z0-9_-]{0,62}$/;

type Issue = { path: string; message: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** The API view of a surface's holdback. */
export function holdbackView(h: SurfaceHoldback): SurfaceHoldbackView {
  return {
    percent: h.percent,
    salt: h.salt,
    generation: h.generation,
    enabled: h.enabled,
    createdAt: iso(h.createdAt),
    disabledAt: h.disabledAt === null ? null : iso(h.disabledAt),
    metrics: h.metrics.map((m) => m.key),
  };
}

/** The API view of a stored surface. */
export function toSurfaceView(record: SurfaceRecord): SurfaceView {
  const { holdback, ...surface } = record.surface;
  return {
    ...surface,
    holdback: holdback === undefined ? null : holdbackView(holdback),
    version: record.revision,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

/** Checks a surface document's shape; metric existence is checked by the service. */
export function parseSurface(input: unknown): { ok: true; value: Surface } | { ok: false; issues: Issue[] } {
  const issues: Issue[] = [];
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return { ok: false, issues: [{ path: '', message: 'expected a surface object' }] };
  const o = input as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) issues.push({ path: k, message: 'unknown field' });
  if (typeof o.key !== 'string' || o.key.length > MAX_KEY_LENGTH || !KEY.test(o.key))
    issues.push({ path: 'key', message: `expected 1 to ${MAX_KEY_LENGTH} letters, digits, "_", "." or "-"` });
  if (
    o.name !== undefined &&
    (typeof o.name !== 'string' || o.name.length === 0 || o.name.length > MAX_NAME_LENGTH)
  )
    issues.push({ path: 'name', message: `expected a string of 1 to ${MAX_NAME_LENGTH} characters` });
  if (
    o.description !== undefined &&
    (typeof o.description !== 'string' || o.description.length > MAX_DESCRIPTION_LENGTH)
  )
    issues.push({
      path: 'description',
      message: `expected a string of at most ${MAX_DESCRIPTION_LENGTH} characters`,
    });
  const guardrails: Surface['guardrails'] = [];
  if (o.guardrails !== undefined && !Array.isArray(o.guardrails))
    issues.push({ path: 'guardrails', message: 'expected an array of { metric, margin? }' });
  else if (Array.isArray(o.guardrails)) {
    if (o.guardrails.length > MAX_GUARDRAILS)
      issues.push({ path: 'guardrails', message: `at most ${MAX_GUARDRAILS} guardrails` });
    const seen = new Set<string>();
    o.guardrails.forEach((g, i) => {
      const path = `guardrails[${i}]`;
      if (typeof g !== 'object' || g === null || Array.isArray(g)) {
        issues.push({ path, message: 'expected { metric, margin? }' });
        return;
      }
      const r = g as Record<string, unknown>;
      for (const k of Object.keys(r))
        if (k !== 'metric' && k !== 'margin') issues.push({ path: `${path}.${k}`, message: 'unknown field' });
      if (typeof r.metric !== 'string' || r.metric.length === 0) {
        issues.push({ path: `${path}.metric`, message: 'expected a metric key' });
        return;
      }
      if (seen.has(r.metric))
        issues.push({ path: `${path}.metric`, message: `metric "${r.metric}" is listed twice` });
      seen.add(r.metric);
      if (
        r.margin !== undefined &&
        (typeof r.margin !== 'number' || !Number.isFinite(r.margin) || r.margin <= 0)
      )
        issues.push({ path: `${path}.margin`, message: 'expected a relative margin > 0, e.g. 0.02 for 2%' });
      guardrails.push(
        r.margin === undefined ? { metric: r.metric } : { metric: r.metric, margin: r.margin as number },
      );
    });
  }
  const approvals = parseApprovals(o.approvals, issues);
  if (issues.length > 0) return { ok: false, issues };
  const surface: Surface = {
    key: o.key as string,
    name: (o.name as string | undefined) ?? (o.key as string),
    guardrails,
  };
  if (o.description !== undefined) surface.description = o.description as string;
  if (approvals !== undefined) surface.approvals = approvals;
  return { ok: true, value: surface };
}

/** The approval rule of a surface: `{ required, environments?, advancePastReach? }`. */
function parseApprovals(value: unknown, issues: Issue[]): Surface['approvals'] {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path: 'approvals', message: 'expected { required, environments?, advancePastReach? }' });
    return undefined;
  }
  const a = value as Record<string, unknown>;
  const before = issues.length;
  for (const k of Object.keys(a))
    if (k !== 'required' && k !== 'environments' && k !== 'advancePastReach')
      issues.push({ path: `approvals.${k}`, message: 'unknown field' });
  if (!Number.isInteger(a.required) || (a.required as number) < 1 || (a.required as number) > MAX_APPROVALS)
    issues.push({ path: 'approvals.required', message: `expected an integer from 1 to ${MAX_APPROVALS}` });
  if (
    a.environments !== undefined &&
    (!Array.isArray(a.environments) ||
      a.environments.some((e) => typeof e !== 'string' || !ENVIRONMENT_KEY.test(e)))
  )
    issues.push({ path: 'approvals.environments', message: 'expected an array of environment keys' });
  if (
    a.advancePastReach !== undefined &&
    (typeof a.advancePastReach !== 'number' ||
      !Number.isFinite(a.advancePastReach) ||
      a.advancePastReach < 0 ||
      a.advancePastReach > 100)
  )
    issues.push({ path: 'approvals.advancePastReach', message: 'expected a reach in percent from 0 to 100' });
  if (issues.length > before) return undefined;
  return {
    required: a.required as number,
    ...(a.environments !== undefined ? { environments: [...(a.environments as string[])] } : {}),
    ...(a.advancePastReach !== undefined ? { advancePastReach: a.advancePastReach as number } : {}),
  };
}

function invalid(issues: Issue[]): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '),
    {
      issues,
    },
  );
}

/** The metrics a surface may name (the composition root passes the metrics store). */
export interface MetricKeys {
  list(): Promise<readonly { metric: MetricDefinition }[]>;
}

/** The flags that may belong to a surface, archived ones too (the composition root passes the flags store). */
export interface FlagDocuments {
  list(filter: { includeArchived: true }): Promise<readonly { flag: FlagConfig }[]>;
}

export class SurfacesService {
  constructor(
    private readonly deps: {
      surfaces: SurfacesStore;
      metrics: MetricKeys;
      flags: FlagDocuments;
      clock: Clock;
      /** The statistics ingestion keeps under an analysis id and attempt (the rollouts store's tables). */
      readAnalysis?: (id: string, attempt: number) => Promise<RolloutAnalysis>;
      /** Hands committed config versions to the config hub. */
      announce?: (changes: readonly ConfigChange[]) => Promise<void>;
    },
  ) {}

  async #record(key: string): Promise<SurfaceRecord> {
    const record = await this.deps.surfaces.get(key);
    if (!record) throw new AppError('NOT_FOUND', `surface "${key}" not found`);
    return record;
  }

  async #writeHoldback(
    current: SurfaceRecord,
    holdback: SurfaceHoldback,
    actor: string,
    action: string,
  ): Promise<SurfaceView> {
    const surface: Surface = { ...current.surface, holdback };
    try {
      const { value, changes } = await this.deps.surfaces.updateHoldback(
        surface,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action,
          resourceType: 'surface',
          resourceKey: surface.key,
          before: current.surface.holdback === undefined ? null : holdbackView(current.surface.holdback),
          after: holdbackView(holdback),
        },
      );
      if (changes.length > 0) await this.deps.announce?.(changes);
      return toSurfaceView(value);
    } catch (error) {
      throw storeError(error, surface.key);
    }
  }

  /**
   * Sets the surface holdback: `percent` of units, by the hash of a new salt of its own, served the default by
   * every rollout and experiment on the surface's flags; it compares them on the surface's required metrics.
   * Immutable once set: CONFLICT (field `percent`) while one is enabled; a holdback set after a disabled one is a
   * new generation with a new salt. Every environment's config moves to a new version.
   */
  async setHoldback(key: string, input: { percent: number }, actor: string): Promise<SurfaceView> {
    const current = await this.#record(key);
    const percent = input.percent;
    if (
      typeof percent !== 'number' ||
      !Number.isFinite(percent) ||
      percent <= 0 ||
      percent > 50 ||
      reachToBuckets(percent) / 10_000 !== percent
    )
      throw invalid([
        {
          path: 'percent',
          message: `expected a share above 0 and at most 50 percent with up to 4 decimals, got ${String(percent)}`,
        },
      ]);
    const existing = current.surface.holdback;
    if (existing?.enabled === true)
      throw new AppError(
        'CONFLICT',
        `percent: surface "${key}" already holds back ${existing.percent}% of units; a holdback is immutable once set: disable it first`,
        { issues: [{ path: 'percent', message: `the holdback of ${existing.percent}% is immutable` }] },
      );
    const definitions = new Map((await this.deps.metrics.list()).map((m) => [m.metric.key, m.metric]));
    const metrics = current.surface.guardrails
      .map((g) => definitions.get(g.metric))
      .filter((m): m is MetricDefinition => m !== undefined);
    if (metrics.length === 0)
      throw invalid([
        {
          path: 'percent',
          message: `surface "${key}" requires no metric: a holdback needs metrics to compare (add guardrails first)`,
        },
      ]);
    const holdback: SurfaceHoldback = {
      percent,
      salt: randomBytes(8).toString('hex'),
      generation: (existing?.generation ?? 0) + 1,
      enabled: true,
      createdAt: this.deps.clock.now(),
      disabledAt: null,
      metrics,
    };
    return this.#writeHoldback(current, holdback, actor, 'surface.holdback.set');
  }

  /** Disables the surface holdback (its units get what everyone else gets); CONFLICT when none is enabled. */
  async disableHoldback(key: string, actor: string): Promise<SurfaceView> {
    const current = await this.#record(key);
    const existing = current.surface.holdback;
    if (existing?.enabled !== true)
      throw new AppError('CONFLICT', `surface "${key}" has no enabled holdback`);
    return this.#writeHoldback(
      current,
      { ...existing, enabled: false, disabledAt: this.deps.clock.now() },
      actor,
      'surface.holdback.disable',
    );
  }

  /** The holdback report of the surface in one environment (NOT_FOUND when the surface never had a holdback). */
  async holdbackReport(key: string, environment: string): Promise<HoldbackReport> {
    const current = await this.#record(key);
    const holdback = current.surface.holdback;
    if (holdback === undefined)
      throw new AppError('NOT_FOUND', `surface "${key}" has no holdback; set one first`);
    const read = this.deps.readAnalysis;
    const analysis =
      read === undefined
        ? { stats: [], units: [] }
        : await read(holdbackAnalysisKey(key, environment), holdback.generation);
    return holdbackReport({
      surface: key,
      environment,
      at: this.deps.clock.now(),
      holdback: holdbackView(holdback),
      metrics: holdback.metrics,
      analysis,
    });
  }

  async list(): Promise<SurfaceView[]> {
    return (await this.deps.surfaces.list()).map(toSurfaceView);
  }

  async get(key: string): Promise<SurfaceView> {
    const record = await this.deps.surfaces.get(key);
    if (!record) throw new AppError('NOT_FOUND', `surface "${key}" not found`);
    return toSurfaceView(record);
  }

  async create(input: unknown, actor: string): Promise<SurfaceView> {
    const surface = await this.#validate(input);
    try {
      const record = await this.deps.surfaces.create(surface, {
        at: this.deps.clock.now(),
        actor,
        action: 'surface.create',
        resourceType: 'surface',
        resourceKey: surface.key,
        before: null,
        after: surface,
      });
      return toSurfaceView(record);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `surface "${surface.key}" already exists`);
      throw error;
    }
  }

  async replace(
    key: string,
    input: unknown,
    actor: string,
    options: { version?: number } = {},
  ): Promise<SurfaceView> {
    const current = await this.deps.surfaces.get(key);
    if (!current) throw new AppError('NOT_FOUND', `surface "${key}" not found`);
    checkVersion(`surface "${key}"`, options.version, current.revision);
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    const provided = (body as { key?: unknown }).key;
    if (provided !== undefined && provided !== key)
      throw invalid([{ path: 'key', message: `the key cannot change (expected "${key}")` }]);
    const surface = await this.#validate({ ...body, key });
    // The holdback changes only through its own routes.
    if (current.surface.holdback !== undefined) surface.holdback = current.surface.holdback;
    try {
      const record = await this.deps.surfaces.update(
        surface,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'surface.update',
          resourceType: 'surface',
          resourceKey: key,
          before: current.surface,
          after: surface,
        },
      );
      return toSurfaceView(record);
    } catch (error) {
      throw storeError(error, key);
    }
  }

  /** Deletes a surface; CONFLICT naming the flags that still belong to it. */
  async delete(key: string, actor: string, options: { version?: number } = {}): Promise<void> {
    const current = await this.deps.surfaces.get(key);
    if (!current) throw new AppError('NOT_FOUND', `surface "${key}" not found`);
    checkVersion(`surface "${key}"`, options.version, current.revision);
    const flags = (await this.deps.flags.list({ includeArchived: true }))
      .filter((r) => r.flag.surface === key)
      .map((r) => r.flag.key);
    if (flags.length > 0)
      throw new AppError('CONFLICT', `surface "${key}" still has flags: ${flags.join(', ')}`, { flags });
    try {
      await this.deps.surfaces.delete(
        key,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'surface.delete',
          resourceType: 'surface',
          resourceKey: key,
          before: current.surface,
          after: null,
        },
      );
    } catch (error) {
      throw storeError(error, key);
    }
  }

  async #validate(input: unknown): Promise<Surface> {
    const parsed = parseSurface(input);
    if (!parsed.ok) throw invalid(parsed.issues);
    const known = new Set((await this.deps.metrics.list()).map((m) => m.metric.key));
    const issues: Issue[] = [];
    parsed.value.guardrails.forEach((g, i) => {
      if (!known.has(g.metric))
        issues.push({ path: `guardrails[${i}].metric`, message: `unknown metric "${g.metric}"` });
    });
    if (issues.length > 0) throw invalid(issues);
    return parsed.value;
  }
}

function storeError(error: unknown, key: string): unknown {
  if (error instanceof StoreConflictError)
    return new AppError('CONFLICT', `surface "${key}" was changed by another request; reload and retry`);
  if (error instanceof StoreNotFoundError) return new AppError('NOT_FOUND', `surface "${key}" not found`);
  return error;
}
