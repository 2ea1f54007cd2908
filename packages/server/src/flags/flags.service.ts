/**
 * Flags: validation with core's validator, server-generated salts, immutable salts, optimistic
 * concurrency, split-change previews, and archive. Every write bumps config versions and is audited
 * in the store's transaction; the hub is told after the commit.
 */

import type { FlagPreview } from '@dimmer/api';
import {
  type FlagConfig,
  type FlagEnvironment,
  type SplitChangePreview,
  type ValidationIssue,
  validateFlagConfig,
} from '@dimmer/core';
import type { Clock } from '../clock.ts';
import type { EnvironmentsStore } from '../environments/index.ts';
import { AppError, checkVersion } from '../errors.ts';
import { generateSalt } from '../secrets.ts';
import type { SegmentsStore } from '../segments/index.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { SurfacesStore } from '../surfaces/index.ts';
import type { FlagRecord, FlagsStore } from './flags.store.ts';
import { ownedRuleProblem, type RolloutGuard, type RolloutRelease } from './rollout-guard.ts';
import { PREVIEW_SAMPLE_SIZE, previewFlagChange, stableStringify } from './split-preview.ts';
import { previewTargetedRules } from './targeted-preview.ts';

/** The API view of a flag: the document plus lifecycle fields and the version (the stored revision). */
export type FlagView = FlagConfig & {
  archived: boolean;
  version: number;
  createdAt: string;
  updatedAt: string;
};

/** What a write may carry besides the document: the version it was made from (checked when given). */
export interface WriteOptions {
  version?: number;
}

/** Options of disable and archive: what to do with a rollout monitored on the flag (refused without it). */
export interface StateChangeOptions extends WriteOptions {
  rollout?: RolloutRelease;
}

/** The reply to every flag change. `preview[env].share` is an estimate from a synthetic sample. */
export interface FlagChangeResult {
  flag: FlagView;
  preview: Record<string, SplitChangePreview>;
}

/** A partial update: top-level fields replace, `environments` merge per environment and per field. */
export interface FlagPatch {
  kind?: FlagConfig['kind'];
  description?: string | null;
  surface?: string | null;
  variants?: FlagConfig['variants'];
  defaultVariant?: string;
  salt?: string;
  hashVersion?: number;
  environments?: Record<string, Partial<FlagEnvironment>>;
}

/** The API view of a stored flag. */
export function toFlagView(record: FlagRecord): FlagView {
  return {
    ...record.flag,
    archived: record.archived,
    version: record.revision,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
  };
}

function invalid(issues: ValidationIssue[]): AppError {
  return new AppError(
    'VALIDATION_FAILED',
    issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; '),
    {
      issues,
    },
  );
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export class FlagsService {
  constructor(
    private readonly deps: {
      flags: FlagsStore;
      segments: SegmentsStore;
      environments: EnvironmentsStore;
      /** When given, a flag's surface must exist when it is set or changed. */
      surfaces?: SurfacesStore;
      /** When given, rules owned by rollouts are protected and disable/archive respect monitored rollouts. */
      rollouts?: RolloutGuard;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
      previewSampleSize?: number;
    },
  ) {}

  /** Flags by key; with `environment`, each flag's `environments` holds only that one. */
  async list(filter: { environment?: string; q?: string; includeArchived?: boolean }): Promise<FlagView[]> {
    if (filter.environment !== undefined && !(await this.deps.environments.get(filter.environment)))
      throw new AppError('NOT_FOUND', `environment "${filter.environment}" not found`);
    const records = await this.deps.flags.list({
      ...(filter.q !== undefined ? { q: filter.q } : {}),
      ...(filter.includeArchived !== undefined ? { includeArchived: filter.includeArchived } : {}),
    });
    return records.map((record) => {
      const view = toFlagView(record);
      if (filter.environment === undefined) return view;
      const env = record.flag.environments[filter.environment];
      return { ...view, environments: env ? { [filter.environment]: env } : {} };
    });
  }

  async get(key: string): Promise<FlagView> {
    const record = await this.deps.flags.get(key);
    if (!record) throw new AppError('NOT_FOUND', `flag "${key}" not found`);
    return toFlagView(record);
  }

  /** Creates a flag; a salt is generated when none is given. */
  async create(input: Record<string, unknown>, actor: string): Promise<FlagView> {
    const doc: Record<string, unknown> = {
      hashVersion: 1,
      environments: {},
      ...input,
    };
    if (doc.salt === undefined) doc.salt = generateSalt();
    const flag = await this.#validate(doc);
    await this.#checkSurface(flag.surface, undefined);
    const now = this.deps.clock.now();
    try {
      const result = await this.deps.flags.create(flag, {
        at: now,
        actor,
        action: 'flag.create',
        resourceType: 'flag',
        resourceKey: flag.key,
        before: null,
        after: { ...flag, archived: false },
      });
      await this.deps.announce(result.changes);
      return toFlagView(result.value);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `flag "${flag.key}" already exists`);
      throw error;
    }
  }

  /** Replaces the whole document (salt and key cannot change; salt may be omitted). */
  replace(
    key: string,
    input: Record<string, unknown>,
    actor: string,
    options: WriteOptions = {},
  ): Promise<FlagChangeResult> {
    return this.#change(key, 'flag.update', actor, options, (current) => ({
      doc: {
        hashVersion: current.flag.hashVersion,
        salt: current.flag.salt,
        key,
        environments: {},
        ...input,
      },
    }));
  }

  /**
   * What replacing the document would change, without saving: the split preview per changed environment (the
   * plain sample, as a save reports it) and, per rule with a condition, the share of the units it targets that
   * change variant. The same validation as `replace` (VALIDATION_FAILED naming each field); NOT_FOUND for an
   * unknown flag.
   */
  async preview(key: string, input: Record<string, unknown>): Promise<FlagPreview> {
    const current = await this.deps.flags.get(key);
    if (!current) throw new AppError('NOT_FOUND', `flag "${key}" not found`);
    const { version: _version, ...body } = input;
    const doc = {
      hashVersion: current.flag.hashVersion,
      salt: current.flag.salt,
      key,
      environments: {},
      ...body,
    };
    const immutable: ValidationIssue[] = [];
    if (doc.key !== key)
      immutable.push({ path: 'key', message: `the key cannot change (expected "${key}")` });
    if (doc.salt !== current.flag.salt)
      immutable.push({ path: 'salt', message: 'the salt is fixed at creation and cannot change' });
    if (immutable.length > 0) throw invalid(immutable);
    const next = await this.#validate(doc);
    const environments = (await this.deps.environments.list()).map((e) => e.key);
    const segments = (await this.deps.segments.list()).map((r) => r.segment);
    const size = this.deps.previewSampleSize ?? PREVIEW_SAMPLE_SIZE;
    return {
      preview: previewFlagChange(current.flag, next, environments, segments, size),
      targeted: previewTargetedRules(current.flag, next, environments, segments, size),
    };
  }

  /** Merges a partial update into the document. */
  patch(key: string, input: FlagPatch, actor: string, options: WriteOptions = {}): Promise<FlagChangeResult> {
    return this.#change(key, 'flag.update', actor, options, (current) => {
      const doc: Record<string, unknown> = clone(current.flag) as unknown as Record<string, unknown>;
      for (const [field, value] of Object.entries(input)) {
        if (field === 'environments') continue;
        if (value === null) delete doc[field];
        else doc[field] = value;
      }
      const envs = doc.environments as Record<string, Partial<FlagEnvironment>>;
      for (const [env, partial] of Object.entries(input.environments ?? {})) {
        envs[env] = { enabled: false, rules: [], ...envs[env], ...partial };
      }
      return { doc };
    });
  }

  /** Replaces one environment's state. */
  putEnvironment(
    key: string,
    environment: string,
    state: FlagEnvironment,
    actor: string,
    options: WriteOptions = {},
  ): Promise<FlagChangeResult> {
    return this.#change(
      key,
      'flag.update',
      actor,
      options,
      (current) => {
        const doc = clone(current.flag);
        doc.environments[environment] = state;
        return { doc: doc as unknown as Record<string, unknown> };
      },
      environment,
    );
  }

  /**
   * Turns a flag on or off in one environment. Disabling under a running, paused or holding rollout is refused
   * (CONFLICT) unless `options.rollout` pauses or rolls it back first.
   */
  async setEnabled(
    key: string,
    environment: string,
    enabled: boolean,
    actor: string,
    options: StateChangeOptions = {},
  ): Promise<FlagChangeResult> {
    const version = enabled
      ? options.version
      : await this.#releaseRollouts(key, environment, 'disable', actor, options);
    return this.#change(
      key,
      enabled ? 'flag.enable' : 'flag.disable',
      actor,
      { ...(version === undefined ? {} : { version }), released: !enabled },
      (current) => {
        const doc = clone(current.flag);
        doc.environments[environment] = { rules: [], ...doc.environments[environment], enabled };
        return { doc: doc as unknown as Record<string, unknown> };
      },
      environment,
    );
  }

  /**
   * Archives (leaves every snapshot, stays readable) or restores a flag. Archiving under a running, paused or
   * holding rollout is refused (CONFLICT) unless `options.rollout` pauses or rolls it back first.
   */
  async setArchived(
    key: string,
    archived: boolean,
    actor: string,
    options: StateChangeOptions = {},
  ): Promise<FlagChangeResult> {
    const version = archived
      ? await this.#releaseRollouts(key, undefined, 'archive', actor, options)
      : options.version;
    return this.#change(
      key,
      archived ? 'flag.archive' : 'flag.unarchive',
      actor,
      { ...(version === undefined ? {} : { version }), released: archived },
      (current) => ({ doc: clone(current.flag) as unknown as Record<string, unknown>, archived }),
    );
  }

  /**
   * Before disable (one environment) or archive (all): refuses when a monitored rollout runs there and no
   * `rollout` release was asked for; otherwise pauses or rolls each back. Returns the version the flag change
   * must then expect (the one after the rollouts' own writes), or the caller's when nothing was released.
   */
  async #releaseRollouts(
    key: string,
    environment: string | undefined,
    verb: 'disable' | 'archive',
    actor: string,
    options: StateChangeOptions,
  ): Promise<number | undefined> {
    if (this.deps.rollouts === undefined) return options.version;
    const current = await this.deps.flags.get(key);
    if (!current) throw new AppError('NOT_FOUND', `flag "${key}" not found`);
    checkVersion(`flag "${key}"`, options.version, current.revision);
    const monitored = (await this.deps.rollouts.ownedRules(key)).filter(
      (o) => o.monitored && (environment === undefined || o.environment === environment),
    );
    if (monitored.length === 0) return options.version;
    const release = options.rollout;
    if (release === undefined) {
      const names = monitored.map((o) => `${o.rollout} (${o.state} in ${o.environment})`).join(', ');
      throw new AppError(
        'CONFLICT',
        `cannot ${verb} flag "${key}": rollout ${names} is running on it and would keep reporting on a flag that serves nobody; ${verb} with "rollout": "pause" or "rollback", or act on the rollout first`,
        {
          rollouts: monitored.map((o) => o.rollout),
          issues: [
            { path: 'rollout', message: 'expected "pause" or "rollback" while a rollout runs on the flag' },
          ],
        },
      );
    }
    for (const o of monitored) await this.deps.rollouts.release(o.rollout, release, actor);
    return (await this.deps.flags.get(key))?.revision;
  }

  async #change(
    key: string,
    action: string,
    actor: string,
    options: WriteOptions & { released?: boolean },
    mutate: (current: FlagRecord) => { doc: Record<string, unknown>; archived?: boolean },
    environment?: string,
  ): Promise<FlagChangeResult> {
    const current = await this.deps.flags.get(key);
    if (!current) throw new AppError('NOT_FOUND', `flag "${key}" not found`);
    checkVersion(`flag "${key}"`, options.version, current.revision);
    if (environment !== undefined && !(await this.deps.environments.get(environment)))
      throw new AppError('NOT_FOUND', `environment "${environment}" not found`);
    const { doc, archived = current.archived } = mutate(current);
    if (current.archived && archived && action !== 'flag.archive')
      throw new AppError('CONFLICT', `flag "${key}" is archived; unarchive it before changing it`);
    const immutable: ValidationIssue[] = [];
    if (doc.key !== key)
      immutable.push({ path: 'key', message: `the key cannot change (expected "${key}")` });
    if (doc.salt !== current.flag.salt)
      immutable.push({ path: 'salt', message: 'the salt is fixed at creation and cannot change' });
    if (immutable.length > 0) throw invalid(immutable);
    const next = await this.#validate(doc);
    await this.#checkSurface(next.surface, current.flag.surface);
    if (this.deps.rollouts !== undefined) {
      const owned = await this.deps.rollouts.ownedRules(key);
      const problem = ownedRuleProblem(next, owned);
      if (problem !== null) throw problem;
      const switchedOff = owned.find(
        (o) =>
          o.monitored &&
          ((archived && !current.archived) ||
            (current.flag.environments[o.environment]?.enabled === true &&
              next.environments[o.environment]?.enabled !== true)),
      );
      if (switchedOff !== undefined && options.released !== true)
        throw new AppError(
          'CONFLICT',
          `rollout ${switchedOff.rollout} is ${switchedOff.state} on flag "${key}" in ${switchedOff.environment}: turn the flag off with the disable or archive action and "rollout": "pause" or "rollback"`,
          {
            rollout: switchedOff.rollout,
            issues: [
              {
                path: `environments.${switchedOff.environment}.enabled`,
                message: 'the flag cannot be turned off under a running rollout by an edit',
              },
            ],
          },
        );
    }
    if (stableStringify(next) === stableStringify(current.flag) && archived === current.archived)
      return { flag: toFlagView(current), preview: {} };

    const environments = (await this.deps.environments.list()).map((e) => e.key);
    const segments = (await this.deps.segments.list()).map((r) => r.segment);
    const preview =
      archived || current.archived
        ? {}
        : previewFlagChange(
            current.flag,
            next,
            environments,
            segments,
            this.deps.previewSampleSize ?? PREVIEW_SAMPLE_SIZE,
          );
    try {
      const result = await this.deps.flags.update(
        next,
        { expectedRevision: current.revision, archived },
        {
          at: this.deps.clock.now(),
          actor,
          action,
          resourceType: 'flag',
          resourceKey: key,
          environment: environment ?? null,
          before: { ...current.flag, archived: current.archived },
          after: { ...next, archived },
        },
      );
      await this.deps.announce(result.changes);
      return { flag: toFlagView(result.value), preview };
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `flag "${key}" was changed by another request; reload and retry`, {
          currentVersion: (await this.deps.flags.get(key))?.revision ?? null,
        });
      if (error instanceof StoreNotFoundError) throw new AppError('NOT_FOUND', `flag "${key}" not found`);
      throw error;
    }
  }

  /**
   * A surface set or changed must exist; a surface the flag already had is left alone (it may predate the
   * surface's definition), so existing flags keep working.
   */
  async #checkSurface(surface: string | undefined, previous: string | undefined): Promise<void> {
    if (surface === undefined || surface === previous || this.deps.surfaces === undefined) return;
    if (await this.deps.surfaces.get(surface)) return;
    throw invalid([
      { path: 'surface', message: `unknown surface "${surface}"; create it with POST /api/v1/surfaces` },
    ]);
  }

  /** Core validation plus what only the server knows: which environments exist. */
  async #validate(doc: Record<string, unknown>): Promise<FlagConfig> {
    // Segment bodies, not just keys: the evaluation budget counts the segments a flag's rules reach.
    const segments = Object.fromEntries(
      (await this.deps.segments.list()).map((r) => [r.segment.key, r.segment]),
    );
    const result = validateFlagConfig(doc, { segments });
    const issues: ValidationIssue[] = result.ok ? [] : [...result.issues];
    const envs = doc.environments;
    if (envs !== null && typeof envs === 'object' && !Array.isArray(envs)) {
      const known = new Set((await this.deps.environments.list()).map((e) => e.key));
      for (const env of Object.keys(envs))
        if (!known.has(env))
          issues.push({ path: `environments.${env}`, message: `unknown environment "${env}"` });
    }
    if (issues.length > 0 || !result.ok) throw invalid(issues);
    return result.value;
  }
}
