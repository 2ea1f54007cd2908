/**
 * Metrics: definitions validated by packages/rollout's validator (the one the rollout logic reads), audited,
 * never deleted while a surface requires them. Rollouts copy the definitions they use, so later edits do not
 * change a running analysis.
 */
import type { Clock } from '../clock.ts';
import { AppError, checkVersion } from '../errors.ts';
import { StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { SurfacesStore } from '../surfaces/index.ts';
import { type MetricDefinition, validateMetricDefinition } from './metric.model.ts';
import { formatWindow } from './metric-window.ts';
import type { MetricRecord, MetricsStore } from './metrics.store.ts';

/** The API view of a metric: the definition with its window as a duration string, plus lifecycle fields. */
export type MetricView = Omit<MetricDefinition, 'window'> & {
  window: string;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** The API view of a stored metric. */
export function toMetricView(record: MetricRecord): MetricView {
  return {
    ...record.metric,
    window: formatWindow(record.metric.window),
    version: record.revision,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  } as MetricView;
}

function validate(input: unknown): MetricDefinition {
  const result = validateMetricDefinition(input);
  if (result.ok) return result.value;
  throw new AppError(
    'VALIDATION_FAILED',
    result.issues.map((i) => `${i.path === '$' ? '(root)' : i.path}: ${i.message}`).join('; '),
    { issues: result.issues },
  );
}

export class MetricsService {
  constructor(private readonly deps: { metrics: MetricsStore; surfaces: SurfacesStore; clock: Clock }) {}

  async list(): Promise<MetricView[]> {
    return (await this.deps.metrics.list()).map(toMetricView);
  }

  async get(key: string): Promise<MetricView> {
    const record = await this.deps.metrics.get(key);
    if (!record) throw new AppError('NOT_FOUND', `metric "${key}" not found`);
    return toMetricView(record);
  }

  async create(input: unknown, actor: string): Promise<MetricView> {
    const metric = validate(input);
    try {
      const record = await this.deps.metrics.create(metric, {
        at: this.deps.clock.now(),
        actor,
        action: 'metric.create',
        resourceType: 'metric',
        resourceKey: metric.key,
        before: null,
        after: metric,
      });
      return toMetricView(record);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `metric "${metric.key}" already exists`);
      throw error;
    }
  }

  /** Replaces a definition; the key cannot change. Running rollouts keep the definition they copied. */
  async replace(
    key: string,
    input: unknown,
    actor: string,
    options: { version?: number } = {},
  ): Promise<MetricView> {
    const current = await this.deps.metrics.get(key);
    if (!current) throw new AppError('NOT_FOUND', `metric "${key}" not found`);
    checkVersion(`metric "${key}"`, options.version, current.revision);
    const body = typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {};
    const provided = (body as { key?: unknown }).key;
    if (provided !== undefined && provided !== key)
      throw new AppError('VALIDATION_FAILED', `key: the key cannot change (expected "${key}")`, {
        issues: [{ path: 'key', message: `the key cannot change (expected "${key}")` }],
      });
    const metric = validate({ ...body, key });
    try {
      const record = await this.deps.metrics.update(
        metric,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'metric.update',
          resourceType: 'metric',
          resourceKey: key,
          before: current.metric,
          after: metric,
        },
      );
      return toMetricView(record);
    } catch (error) {
      throw storeError(error, key);
    }
  }

  /** Deletes a metric; CONFLICT naming the surfaces that still require it. */
  async delete(key: string, actor: string, options: { version?: number } = {}): Promise<void> {
    const current = await this.deps.metrics.get(key);
    if (!current) throw new AppError('NOT_FOUND', `metric "${key}" not found`);
    checkVersion(`metric "${key}"`, options.version, current.revision);
    const surfaces = (await this.deps.surfaces.list())
      .filter((s) => s.surface.guardrails.some((g) => g.metric === key))
      .map((s) => s.surface.key);
    if (surfaces.length > 0)
      throw new AppError('CONFLICT', `metric "${key}" is required by surfaces: ${surfaces.join(', ')}`, {
        surfaces,
      });
    try {
      await this.deps.metrics.delete(
        key,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'metric.delete',
          resourceType: 'metric',
          resourceKey: key,
          before: current.metric,
          after: null,
        },
      );
    } catch (error) {
      throw storeError(error, key);
    }
  }
}

function storeError(error: unknown, key: string): unknown {
  if (error instanceof StoreConflictError)
    return new AppError('CONFLICT', `metric "${key}" was changed by another request; reload and retry`);
  if (error instanceof StoreNotFoundError) return new AppError('NOT_FOUND', `metric "${key}" not found`);
  return error;
}
