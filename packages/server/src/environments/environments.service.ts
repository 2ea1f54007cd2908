/** Environments: listing, creation (each starts at config version 1), renaming and deletion. */
import type { EnvironmentView } from '@dimmer/api';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { type ConfigChange, StoreConflictError, StoreNotFoundError } from '../storage/write.ts';
import type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';

/** The environments every new installation starts with. */
export const DEFAULT_ENVIRONMENTS: readonly { key: string; name: string }[] = [
  { key: 'production', name: 'Production' },
  { key: 'development', name: 'Development' },
];

export type { EnvironmentView };

/** What refers to an environment and keeps it from being deleted. */
export interface EnvironmentReferences {
  /** Names of its client keys that are not revoked. */
  keys: string[];
  rollouts: { id: string; state: string }[];
  experiments: { id: string; status: string }[];
}

/** The API view of an environment. */
export function toEnvironmentView(record: EnvironmentRecord): EnvironmentView {
  return {
    key: record.key,
    name: record.name,
    configVersion: record.configVersion,
    createdAt: new Date(record.createdAt).toISOString(),
    committedAt: new Date(record.committedAt).toISOString(),
  };
}

export class EnvironmentsService {
  constructor(
    private readonly deps: {
      environments: EnvironmentsStore;
      clock: Clock;
      announce: (changes: readonly ConfigChange[]) => Promise<void>;
      /** What refers to an environment (wired by the composition root from the keys, rollouts and experiments). */
      references?: (key: string) => Promise<EnvironmentReferences>;
    },
  ) {}

  async get(key: string): Promise<EnvironmentView> {
    const record = await this.deps.environments.get(key);
    if (!record) throw new AppError('NOT_FOUND', `environment "${key}" not found`);
    return toEnvironmentView(record);
  }

  /** Renames an environment (its key never changes); NOT_FOUND when it does not exist. */
  async rename(key: string, name: string, actor: string): Promise<EnvironmentView> {
    const before = await this.get(key);
    try {
      const record = await this.deps.environments.rename(key, name, {
        at: this.deps.clock.now(),
        actor,
        action: 'environment.update',
        resourceType: 'environment',
        resourceKey: key,
        environment: key,
        before: { key, name: before.name },
        after: { key, name },
      });
      return toEnvironmentView(record);
    } catch (error) {
      if (error instanceof StoreNotFoundError)
        throw new AppError('NOT_FOUND', `environment "${key}" not found`);
      throw error;
    }
  }

  /**
   * Deletes an environment with its state in every flag and its revoked client keys. CONFLICT naming each
   * active client key, rollout and experiment that refers to it (their history stays; nothing is deleted);
   * NOT_FOUND when it does not exist.
   */
  async remove(key: string, actor: string): Promise<void> {
    const before = await this.get(key);
    const refs = (await this.deps.references?.(key)) ?? { keys: [], rollouts: [], experiments: [] };
    const conflict = () => {
      const parts = [
        ...(refs.keys.length > 0 ? [`client keys ${refs.keys.join(', ')} (revoke them first)`] : []),
        ...(refs.rollouts.length > 0
          ? [`rollouts ${refs.rollouts.map((r) => `${r.id} (${r.state})`).join(', ')}`]
          : []),
        ...(refs.experiments.length > 0
          ? [`experiments ${refs.experiments.map((e) => `${e.id} (${e.status})`).join(', ')}`]
          : []),
      ];
      return new AppError(
        'CONFLICT',
        `environment "${key}" is in use by ${parts.length > 0 ? parts.join('; ') : 'another resource'}; rollouts and experiments keep their history, so an environment that has had them cannot be deleted (rename it instead)`,
        { environment: key, ...refs },
      );
    };
    if (refs.keys.length + refs.rollouts.length + refs.experiments.length > 0) throw conflict();
    try {
      await this.deps.environments.remove(key, {
        at: this.deps.clock.now(),
        actor,
        action: 'environment.delete',
        resourceType: 'environment',
        resourceKey: key,
        environment: key,
        before,
        after: null,
      });
    } catch (error) {
      if (error instanceof StoreNotFoundError)
        throw new AppError('NOT_FOUND', `environment "${key}" not found`);
      if (error instanceof StoreConflictError) throw conflict();
      throw error;
    }
  }

  async list(): Promise<EnvironmentView[]> {
    return (await this.deps.environments.list()).map(toEnvironmentView);
  }

  /** Creates an environment; CONFLICT when the key exists. */
  async create(input: { key: string; name?: string }, actor: string): Promise<EnvironmentView> {
    const now = this.deps.clock.now();
    const name = input.name ?? input.key;
    try {
      const result = await this.deps.environments.create(
        { key: input.key, name },
        {
          at: now,
          actor,
          action: 'environment.create',
          resourceType: 'environment',
          resourceKey: input.key,
          environment: input.key,
          before: null,
          after: { key: input.key, name },
        },
      );
      await this.deps.announce(result.changes);
      return toEnvironmentView(result.value);
    } catch (error) {
      if (error instanceof StoreConflictError)
        throw new AppError('CONFLICT', `environment "${input.key}" already exists`);
      throw error;
    }
  }

  /** Creates the default environments when the store has none; returns the keys created. */
  async ensureDefaults(): Promise<string[]> {
    if ((await this.deps.environments.list()).length > 0) return [];
    const created: string[] = [];
    for (const env of DEFAULT_ENVIRONMENTS) {
      try {
        await this.create(env, 'system');
        created.push(env.key);
      } catch (error) {
        // Another node starting at the same moment created it first.
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
    }
    return created;
  }
}
