/**
 * The in-memory config of every environment: built from storage at start, rebuilt once per new
 * version (flags flattened and compiled with core), swapped atomically, and announced to subscribers.
 * Versions that are not newer than the one held are ignored, so in-process and LISTEN/NOTIFY
 * announcements of the same commit are harmless.
 */
import { compileConfig, type EnvironmentSnapshot, flattenFlag } from '@dimmer/core';
import type { ConfigHub, ConfigState } from '../client-deps.ts';
import type { ConfigChange } from '../storage/write.ts';
import type { ConfigStore } from './config.store.ts';

export interface HubLogger {
  error(object: unknown, message: string): void;
}

export interface ConfigHubOptions {
  store: ConfigStore;
  /** Names every environment that exists (for the initial load and resyncs). */
  listEnvironments(): Promise<string[]>;
  /** Called after every swap (metrics). */
  onSwap?: (state: ConfigState) => void;
  logger?: HubLogger;
}

/** The strong ETag of an environment's config version. */
export function configEtag(environment: string, version: number): string {
  return `"${environment}-${version}"`;
}

/** ConfigHub over a config store, with the loading side the composition root drives. */
export class StoreConfigHub implements ConfigHub {
  readonly #states = new Map<string, ConfigState>();
  readonly #listeners = new Map<string, Set<(state: ConfigState) => void>>();
  /** One reload chain per environment, so an older read never replaces a newer swap. */
  readonly #reloads = new Map<string, Promise<void>>();
  readonly #options: ConfigHubOptions;
  #loaded = false;
  #closed = false;

  constructor(options: ConfigHubOptions) {
    this.#options = options;
  }

  /** True once every environment was loaded at start. */
  get loaded(): boolean {
    return this.#loaded;
  }

  get(environment: string): ConfigState | undefined {
    return this.#states.get(environment);
  }

  /** Environments held, by name. */
  environments(): string[] {
    return [...this.#states.keys()].sort();
  }

  subscribe(environment: string, listener: (state: ConfigState) => void): () => void {
    let set = this.#listeners.get(environment);
    if (!set) {
      set = new Set();
      this.#listeners.set(environment, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Loads every environment; resolves when all are held. */
  async load(): Promise<void> {
    await this.resync();
    this.#loaded = true;
  }

  /** Re-reads every environment (after start, or after missed notifications). */
  async resync(): Promise<void> {
    const names = await this.#options.listEnvironments();
    await Promise.all(names.map((name) => this.reload(name)));
  }

  /** Re-reads the environments whose announced version is newer than the one held. */
  async apply(changes: readonly Pick<ConfigChange, 'environment' | 'version'>[]): Promise<void> {
    await Promise.all(
      changes
        .filter((change) => (this.#states.get(change.environment)?.version ?? 0) < change.version)
        .map((change) => this.reload(change.environment)),
    );
  }

  /** Re-reads one environment and swaps it in when its version is newer. */
  reload(environment: string): Promise<void> {
    const previous = this.#reloads.get(environment) ?? Promise.resolve();
    const next = previous.then(() => this.#reloadNow(environment));
    const tracked = next.catch((error: unknown) => {
      this.#options.logger?.error({ err: error, environment }, 'config reload failed');
    });
    this.#reloads.set(environment, tracked);
    return next;
  }

  /** Stops announcing; subscribers are dropped. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
  }

  async #reloadNow(environment: string): Promise<void> {
    if (this.#closed) return;
    const source = await this.#options.store.read(environment);
    if (!source) return;
    const current = this.#states.get(environment);
    if (current && current.version >= source.version) return;
    const snapshot: EnvironmentSnapshot = {
      environment,
      version: source.version,
      flags: source.flags.map((flag) => flattenFlag(flag, environment)),
      segments: source.segments,
    };
    const state: ConfigState = {
      environment,
      version: source.version,
      snapshot,
      compiled: compileConfig(snapshot),
      etag: configEtag(environment, source.version),
      committedAt: source.committedAt,
    };
    this.#states.set(environment, state);
    this.#options.onSwap?.(state);
    for (const listener of [...(this.#listeners.get(environment) ?? [])]) {
      try {
        listener(state);
      } catch (error) {
        this.#options.logger?.error({ err: error, environment }, 'config listener failed');
      }
    }
  }
}
