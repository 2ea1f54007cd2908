/**
 * The in-memory config of every environment: built from storage at start, rebuilt once per new
 * version (flags flattened and compiled with core, with a patch against the version held before for server
 * keys' streams), swapped atomically, and announced to subscribers.
 * Versions that are not newer than the one held are ignored, so in-process and LISTEN/NOTIFY
 * announcements of the same commit are harmless. A failed reload is retried with backoff, and a poll of
 * the stored versions (one cheap query) catches any notice that never arrived.
 */
import {
  compileConfig,
  type EnvironmentSnapshot,
  type FlagConfig,
  flattenFlag,
  reachToBuckets,
  type SnapshotHoldback,
} from '@dimmer/core';
import { EXPERIMENT_RULE_ID_PREFIX, ROLLOUT_RULE_ID_PREFIX } from '@dimmer/rollout';
import type { ConfigHub, ConfigState } from '../client-deps.ts';
import type { ConfigChange } from '../storage/write.ts';
import type { ConfigHoldback, ConfigStore } from './config.store.ts';
import { diffSnapshots, shareUnchanged } from './snapshot-patch.ts';

/** First and largest delay before a failed reload is tried again, in milliseconds. */
const RETRY_INITIAL_MS = 250;
const RETRY_MAX_MS = 5_000;

export interface HubLogger {
  error(object: unknown, message: string): void;
}

export interface ConfigHubOptions {
  store: ConfigStore;
  /** Names every environment that exists (for the initial load and resyncs). */
  listEnvironments(): Promise<string[]>;
  /** Called after every swap (metrics). */
  onSwap?: (state: ConfigState) => void;
  /** Called with each environment's lag in seconds after every poll and swap (metrics). */
  onLag?: (environment: string, seconds: number) => void;
  /** Epoch milliseconds (the lag's clock); Date.now by default. */
  now?: () => number;
  logger?: HubLogger;
}

/** The strong ETag of an environment's config version. */
export function configEtag(environment: string, version: number): string {
  return `"${environment}-${version}"`;
}

/**
 * The holdback a flag's snapshot carries in `environment`: its surface's enabled holdback, applying to the rules
 * rollouts and experiments put on the flag (marked, or completed/shipped ones that keep their rule id).
 */
export function snapshotHoldback(
  flag: FlagConfig,
  environment: string,
  holdbacks: Record<string, ConfigHoldback>,
): SnapshotHoldback | undefined {
  const surface = flag.surface;
  if (surface === undefined || !Object.hasOwn(holdbacks, surface)) return undefined;
  const h = holdbacks[surface] as ConfigHoldback;
  const rules =
    (Object.hasOwn(flag.environments, environment) ? flag.environments[environment]?.rules : undefined) ?? [];
  return {
    surface,
    salt: h.salt,
    buckets: reachToBuckets(h.percent),
    rules: rules
      .filter(
        (r) =>
          r.rollout !== undefined ||
          r.experiment !== undefined ||
          r.id.startsWith(ROLLOUT_RULE_ID_PREFIX) ||
          r.id.startsWith(EXPERIMENT_RULE_ID_PREFIX),
      )
      .map((r) => r.id),
  };
}

/** ConfigHub over a config store, with the loading side the composition root drives. */
export class StoreConfigHub implements ConfigHub {
  readonly #states = new Map<string, ConfigState>();
  readonly #listeners = new Map<string, Set<(state: ConfigState) => void>>();
  /** One reload chain per environment, so an older read never replaces a newer swap. */
  readonly #reloads = new Map<string, Promise<void>>();
  /** The newest version seen in storage per environment, with its commit time (for the lag). */
  readonly #latest = new Map<string, { version: number; committedAt: number }>();
  /** Pending retries of failed reloads, with the delay of the next one. */
  readonly #retries = new Map<string, { timer: NodeJS.Timeout | undefined; delay: number }>();
  readonly #options: ConfigHubOptions;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
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
    for (const change of changes) this.#seen(change.environment, change.version, this.#now());
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
    const tracked = next.then(
      () => this.#succeeded(environment),
      (error: unknown) => {
        this.#options.logger?.error({ err: error, environment }, 'config reload failed; retrying');
        this.#scheduleRetry(environment);
      },
    );
    this.#reloads.set(environment, tracked);
    return next;
  }

  /**
   * Polls the stored versions every `intervalMs` (0: never) and reloads what is behind: the fallback for a
   * notice that never arrived (a dropped listener, a restarted database).
   */
  startPolling(intervalMs: number): void {
    if (intervalMs <= 0 || this.#pollTimer !== undefined) return;
    this.#pollTimer = setInterval(() => {
      this.poll().catch((error: unknown) =>
        this.#options.logger?.error({ err: error }, 'config version poll failed'),
      );
    }, intervalMs);
    this.#pollTimer.unref();
  }

  /** Reads every stored version once and reloads the environments held at an older one (or not held). */
  async poll(): Promise<void> {
    if (this.#polling || this.#closed) return;
    this.#polling = true;
    try {
      const versions = await this.#options.store.versions();
      for (const v of versions) this.#seen(v.environment, v.version, v.committedAt);
      await Promise.all(
        versions
          .filter((v) => (this.#states.get(v.environment)?.version ?? 0) < v.version)
          .map((v) => this.reload(v.environment).catch(() => undefined)),
      );
      for (const v of versions) this.#reportLag(v.environment);
    } finally {
      this.#polling = false;
    }
  }

  /** Stops announcing, polling and retrying; subscribers are dropped. */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    if (this.#pollTimer !== undefined) clearInterval(this.#pollTimer);
    for (const retry of this.#retries.values()) if (retry.timer !== undefined) clearTimeout(retry.timer);
    this.#retries.clear();
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  /** Records a version known to exist in storage (from a notice or a poll). */
  #seen(environment: string, version: number, committedAt: number): void {
    const latest = this.#latest.get(environment);
    if (latest === undefined || latest.version < version)
      this.#latest.set(environment, { version, committedAt });
  }

  #reportLag(environment: string): void {
    const latest = this.#latest.get(environment);
    const held = this.#states.get(environment)?.version ?? 0;
    const lag =
      latest === undefined || held >= latest.version ? 0 : Math.max(0, this.#now() - latest.committedAt);
    this.#options.onLag?.(environment, lag / 1000);
  }

  #succeeded(environment: string): void {
    const retry = this.#retries.get(environment);
    if (retry !== undefined && retry.timer === undefined) this.#retries.delete(environment);
    this.#reportLag(environment);
  }

  /** Tries a failed reload again after a delay that doubles up to RETRY_MAX_MS (one pending retry per environment). */
  #scheduleRetry(environment: string): void {
    if (this.#closed) return;
    const retry = this.#retries.get(environment) ?? { timer: undefined, delay: RETRY_INITIAL_MS };
    this.#retries.set(environment, retry);
    this.#reportLag(environment);
    if (retry.timer !== undefined) return;
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      retry.delay = Math.min(retry.delay * 2, RETRY_MAX_MS);
      this.reload(environment).catch(() => undefined);
    }, retry.delay);
    retry.timer.unref();
  }

  async #reloadNow(environment: string): Promise<void> {
    if (this.#closed) return;
    const source = await this.#options.store.read(environment);
    if (!source) return;
    this.#seen(environment, source.version, source.committedAt);
    const current = this.#states.get(environment);
    if (current && current.version >= source.version) return;
    const read: EnvironmentSnapshot = {
      environment,
      version: source.version,
      flags: source.flags.map((flag) =>
        flattenFlag(flag, environment, snapshotHoldback(flag, environment, source.holdbacks)),
      ),
      segments: source.segments,
    };
    // Unchanged flags and segments stay the previous version's objects, so only what changed is compiled.
    const snapshot = current === undefined ? read : shareUnchanged(current.snapshot, read);
    const state: ConfigState = {
      environment,
      version: source.version,
      snapshot,
      compiled: compileConfig(snapshot, current?.compiled),
      etag: configEtag(environment, source.version),
      committedAt: source.committedAt,
    };
    // Against this node's own previous version: a client holding another one sees the base differ and refetches.
    const patch = current === undefined ? undefined : diffSnapshots(current.snapshot, snapshot);
    if (patch !== undefined) state.patch = patch;
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
