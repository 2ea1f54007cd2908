/** Environments: listing and creation (each starts at config version 1). */
import type { EnvironmentView } from '@dimmer/api';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';
import { type ConfigChange, StoreConflictError } from '../storage/write.ts';
import type { EnvironmentRecord, EnvironmentsStore } from './environments.store.ts';

/** The environments every new installation starts with. */
export const DEFAULT_ENVIRONMENTS: readonly { key: string; name: string }[] = [
  { key: 'production', name: 'Production' },
  { key: 'development', name: 'Development' },
];

export type { EnvironmentView };

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
    },
  ) {}

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
