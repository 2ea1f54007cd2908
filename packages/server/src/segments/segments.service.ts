/**
 * Segments: validated with core (unknown references and cycles are rejected), and never deleted
 * while a flag or another segment refers to them. A change to a segment is refused when a flag that uses it
 * (directly or through other segments) would then exceed the evaluation budget.
 */
import {
  type Condition,
  type FlagConfig,
  type Segment,
  segmentReferences,
  type ValidationIssue,
  validateFlagConfig,
  validateSegment,
} from '@dimmer/core';
import type { Clock } from '../clock.ts';
import { AppError, checkVersion } from '../errors.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { SegmentRecord, SegmentsStore } from './segments.store.ts';

export type SegmentView = Segment & { version: number; createdAt: string; updatedAt: string };

/** The API view of a stored segment. */
export function toSegmentView(record: SegmentRecord): SegmentView {
  return {
    ...record.segment,
    version: record.revision,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

/**
 * What deleting a segment needs to know about flags: every flag document, archived ones too. The composition
 * root passes the flags store, which offers this.
 */
export interface FlagDocuments {
  list(filter: { includeArchived: true }): Promise<readonly { flag: FlagConfig }[]>;
}

export class SegmentsService {
  constructor(
    private readonly deps: {
      segments: SegmentsStore;
      flags: FlagDocuments;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
    },
  ) {}

  async list(): Promise<SegmentView[]> {
    return (await this.deps.segments.list()).map(toSegmentView);
  }

  async get(key: string): Promise<SegmentView> {
    const record = await this.deps.segments.get(key);
    if (!record) throw new AppError('NOT_FOUND', `segment "${key}" not found`);
    return toSegmentView(record);
  }

  async create(input: Record<string, unknown>, actor: string): Promise<SegmentView> {
    const segment = this.#validate(input, await this.#segmentsByKey());
    try {
      const result = await this.deps.segments.create(segment, {
        at: this.deps.clock.now(),
        actor,
        action: 'segment.create',
        resourceType: 'segment',
        resourceKey: segment.key,
        before: null,
        after: segment,
      });
      await this.deps.announce(result.changes);
      return toSegmentView(result.value);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `segment "${segment.key}" already exists`);
      throw error;
    }
  }

  /** Replaces a segment's description and condition; the key cannot change. */
  async replace(
    key: string,
    input: Record<string, unknown>,
    actor: string,
    options: { version?: number } = {},
  ): Promise<SegmentView> {
    const current = await this.deps.segments.get(key);
    if (!current) throw new AppError('NOT_FOUND', `segment "${key}" not found`);
    checkVersion(`segment "${key}"`, options.version, current.revision);
    if (input.key !== undefined && input.key !== key)
      throw new AppError('VALIDATION_FAILED', 'the key cannot change', {
        issues: [{ path: 'key', message: `the key cannot change (expected "${key}")` }],
      });
    const others = await this.#segmentsByKey();
    const segment = this.#validate({ ...input, key }, others);
    await this.#checkFlagsUsing(segment, others);
    try {
      const result = await this.deps.segments.update(
        segment,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'segment.update',
          resourceType: 'segment',
          resourceKey: key,
          before: current.segment,
          after: segment,
        },
      );
      await this.deps.announce(result.changes);
      return toSegmentView(result.value);
    } catch (error) {
      throw mapStoreError(error, key);
    }
  }

  /** Deletes a segment; CONFLICT naming the flags and segments that still refer to it. */
  async delete(key: string, actor: string, options: { version?: number } = {}): Promise<void> {
    const current = await this.deps.segments.get(key);
    if (!current) throw new AppError('NOT_FOUND', `segment "${key}" not found`);
    checkVersion(`segment "${key}"`, options.version, current.revision);
    const flags: string[] = [];
    for (const record of await this.deps.flags.list({ includeArchived: true })) {
      const refers = Object.values(record.flag.environments).some((env) =>
        env.rules.some((rule) => rule.when !== undefined && segmentReferences(rule.when).has(key)),
      );
      if (refers) flags.push(record.flag.key);
    }
    const segments = (await this.deps.segments.list())
      .filter((r) => r.segment.key !== key && segmentReferences(r.segment.when as Condition).has(key))
      .map((r) => r.segment.key);
    if (flags.length > 0 || segments.length > 0)
      throw new AppError('CONFLICT', `segment "${key}" is still referenced`, { flags, segments });
    try {
      const result = await this.deps.segments.delete(
        key,
        { expectedRevision: current.revision },
        {
          at: this.deps.clock.now(),
          actor,
          action: 'segment.delete',
          resourceType: 'segment',
          resourceKey: key,
          before: current.segment,
          after: null,
        },
      );
      await this.deps.announce(result.changes);
    } catch (error) {
      throw mapStoreError(error, key);
    }
  }

  async #segmentsByKey(): Promise<Record<string, Segment>> {
    const segments: Record<string, Segment> = {};
    for (const record of await this.deps.segments.list()) segments[record.segment.key] = record.segment;
    return segments;
  }

  #validate(input: Record<string, unknown>, others: Record<string, Segment>): Segment {
    const result = validateSegment(input, { segments: others });
    if (!result.ok) throw validationFailed(result.issues);
    return result.value;
  }

  /**
   * Every flag whose rules reach `segment` (directly or through other segments) is validated against the
   * segments as they are and as they would be once `segment` is saved; an issue only the change brings (the
   * flag over its condition-node or regex budget, or a chain too deep) refuses the change, naming the flag.
   */
  async #checkFlagsUsing(segment: Segment, current: Record<string, Segment>): Promise<void> {
    const next: Record<string, Segment> = { ...current, [segment.key]: segment };
    const reaching = segmentsReaching(segment.key, next);
    for (const { flag } of await this.deps.flags.list({ includeArchived: true })) {
      const uses = Object.values(flag.environments).some((env) =>
        env.rules.some(
          (rule) => rule.when !== undefined && [...segmentReferences(rule.when)].some((k) => reaching.has(k)),
        ),
      );
      if (!uses) continue;
      const before = validateFlagConfig(flag, { segments: current });
      const known = new Set(before.ok ? [] : before.issues.map((i) => i.path));
      const after = validateFlagConfig(flag, { segments: next });
      const brought = after.ok ? undefined : after.issues.find((i) => !known.has(i.path));
      if (brought === undefined) continue;
      const where = /^environments\.([^.]+)\.(.*)$/.exec(brought.path);
      const place = where === null ? brought.path : `environment "${where[1]}", ${where[2]}`;
      throw validationFailed([
        {
          path: 'when',
          message: `expected a change that keeps flag "${flag.key}", which uses this segment, within its limits (${place}): ${brought.message.replace(/^expected /, '')}`,
        },
      ]);
    }
  }
}

function validationFailed(issues: readonly ValidationIssue[]): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '),
    { issues },
  );
}

/** `key` and every segment that refers to it directly or through other segments. */
function segmentsReaching(key: string, segments: Readonly<Record<string, Segment>>): Set<string> {
  const references = new Map(
    Object.entries(segments).map(([k, seg]) => [k, segmentReferences(seg.when as Condition)]),
  );
  const reaching = new Set([key]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [k, refs] of references)
      if (!reaching.has(k) && [...refs].some((r) => reaching.has(r))) {
        reaching.add(k);
        grew = true;
      }
  }
  return reaching;
}

function mapStoreError(error: unknown, key: string): unknown {
  if (error instanceof StoreConflictError)
    return new AppError('CONFLICT', `segment "${key}" was changed by another request; reload and retry`);
  if (error instanceof StoreNotFoundError) return new AppError('NOT_FOUND', `segment "${key}" not found`);
  return error;
}
