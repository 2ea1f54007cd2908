/**
 * The server-mode client: holds one environment's full config, kept current over the change stream,
 * and evaluates every flag locally with @dimmer/core (no network per evaluation). Logs exposures for
 * rollout and experiment rules, deduplicated and batched.
 */
import {
  type CompiledConfig,
  type CompiledRule,
  compileConfig,
  type EnvironmentSnapshot,
  type EvaluationContext,
  type EvaluationResult,
  evaluate,
  type FlagKind,
  type FlagValue,
  type JsonObject,
} from '@dimmer/core';
import { type BaseClientOptions, ClientBase, notReadyResult, toDetails } from './base.ts';
import {
  DEFAULT_EXPOSURE_DEDUP_CAPACITY,
  DEFAULT_EXPOSURE_DEDUP_WINDOW_MS,
  ExposureDeduper,
  type FlagExposures,
  isoTimestamp,
} from './events.ts';
import { applyConfigPatch, type ConfigNotice } from './patch.ts';
import { describeError, joinUrl } from './platform.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, fetchWithTimeout } from './sync.ts';
import type { ConfigSource, EvaluateOptions, EvaluationDetails, TimerHandle, TrackDetails } from './types.ts';

/** A last-known-good config as kept by a cache. */
export interface CachedSnapshot {
  snapshot: EnvironmentSnapshot;
  /** The ETag the server sent with it, so a restart can ask "changed since?". */
  etag?: string;
  /** Epoch milliseconds when it was saved. */
  savedAt: number;
}

/** Optional persistence of the last good config (a file in Node, localStorage in browsers). */
export interface SnapshotCache {
  load(): CachedSnapshot | undefined | Promise<CachedSnapshot | undefined>;
  save(entry: CachedSnapshot): void | Promise<void>;
}

/** Exposure logging settings. */
export interface ExposureOptions {
  /**
   * Window within which one (unit, flag, variant) exposure is sent once, in milliseconds (default 10 minutes);
   * a repeat is suppressed for between half this window and all of it.
   */
  dedupWindowMs?: number;
  /** Remembered (unit, flag, variant) triples (default 50,000). */
  dedupCapacity?: number;
}

/** Options of `createClient` (server mode, local evaluation). */
export interface ClientOptions extends BaseClientOptions {
  /** A config to serve before (or instead of) the server's, e.g. shipped with the deployment. */
  bootstrap?: EnvironmentSnapshot;
  /** Where the last good config is kept across restarts. */
  cache?: SnapshotCache;
  /** Exposure logging for rollout and experiment rules; `false` turns it off. */
  exposures?: ExposureOptions | false;
}

interface Installed {
  snapshot: EnvironmentSnapshot;
  compiled: CompiledConfig;
  version: number;
  etag: string | undefined;
  /**
   * Core result object → what logging its exposure needs, for every result a rollout or experiment rule
   * can serve (core shares one frozen result per flag, rule and slice); null when exposures are off.
   */
  exposures: Map<Readonly<EvaluationResult>, ExposureSlot> | null;
}

/** Prepared at install for one exposure-logging result: its flag's dedup state, variant and unit reader. */
interface ExposureSlot {
  readonly flagKey: string;
  readonly variant: string;
  readonly dedup: FlagExposures;
  /** Reads the rule's unit; null when it is the targetingKey (read directly). */
  readonly readUnit: ((context: EvaluationContext) => unknown) | null;
}

const BOOLEAN_OPTIONS: { kind: FlagKind } = Object.freeze({ kind: 'boolean' });
const STRING_OPTIONS: { kind: FlagKind } = Object.freeze({ kind: 'string' });
const NUMBER_OPTIONS: { kind: FlagKind } = Object.freeze({ kind: 'number' });
const KIND_OPTIONS: Record<FlagKind, { kind: FlagKind }> = {
  boolean: BOOLEAN_OPTIONS,
  string: STRING_OPTIONS,
  number: NUMBER_OPTIONS,
  object: Object.freeze({ kind: 'object' }),
};
const HTTP_NOT_MODIFIED = 304;
/** The unit of a rule without `bucketBy`. */
const DEFAULT_UNIT_ATTRIBUTE = 'targetingKey';
/** Top-level snapshot problems that make a config unusable (flag-level problems only break that flag). */
const FATAL_ISSUE_PATHS = new Set(['$', 'environment', 'version', 'flags', 'segments']);

function toUnit(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/** Reads a rule's bucketing unit; null when that is the targetingKey, which callers read directly. */
function unitReader(rule: CompiledRule): ((context: EvaluationContext) => unknown) | null {
  return rule.unitAttribute === DEFAULT_UNIT_ATTRIBUTE
    ? null
    : (rule.unit as (context: EvaluationContext) => unknown);
}

/** Prepares an exposure slot for every result that a rollout, experiment or surface holdback of `compiled` can serve. */
function exposureSlots(
  compiled: CompiledConfig,
  deduper: ExposureDeduper,
): Map<Readonly<EvaluationResult>, ExposureSlot> {
  const slots = new Map<Readonly<EvaluationResult>, ExposureSlot>();
  for (const flag of compiled.flagList) {
    for (const rule of flag.rules) {
      if (rule.rollout === undefined && rule.experiment === undefined && rule.holdbackResult === null)
        continue;
      const readUnit = unitReader(rule);
      const results = rule.slices.map((slice) => slice.result);
      if (rule.result !== null) results.push(rule.result);
      // A surface holdback's default is an exposure too (the holdback report compares its units).
      if (rule.holdbackResult !== null) results.push(rule.holdbackResult);
      for (const result of results) {
        const variant = result.variant;
        if (result.inExperiment !== true || variant === undefined || slots.has(result)) continue;
        slots.set(result, { flagKey: flag.key, variant, dedup: deduper.forFlag(flag.key), readUnit });
      }
    }
  }
  return slots;
}

/**
 * Compiles a snapshot, or explains why it cannot be served (not an object, missing version, …).
 * Flag-level problems do not reject the snapshot: those flags evaluate to PARSE_ERROR. With `previous`, what
 * the snapshot shares with the one `previous` was compiled from is taken over (see compileConfig).
 */
export function prepareSnapshot(
  snapshot: unknown,
  previous?: CompiledConfig,
): { ok: true; value: CompiledConfig } | { ok: false; issues: { path: string; message: string }[] } {
  const compiled = compileConfig(snapshot as EnvironmentSnapshot, previous);
  const fatal = compiled.issues.filter((issue) => FATAL_ISSUE_PATHS.has(issue.path));
  return fatal.length > 0 ? { ok: false, issues: fatal } : { ok: true, value: compiled };
}

/** The local-evaluation client. Create it with `createClient`. */
export class DimmerClient extends ClientBase {
  private current: Installed | undefined;
  private readonly deduper: ExposureDeduper | undefined;
  private readonly cache: SnapshotCache | undefined;
  private rotationTimer: TimerHandle | undefined;

  constructor(protected override readonly options: ClientOptions) {
    super(options);
    this.cache = options.cache;
    this.deduper =
      options.exposures === false || this.queue === undefined
        ? undefined
        : new ExposureDeduper(options.exposures?.dedupCapacity ?? DEFAULT_EXPOSURE_DEDUP_CAPACITY);
    if (this.deduper !== undefined) this.scheduleRotation();
  }

  private scheduleRotation(): void {
    const exposures = this.options.exposures;
    const windowMs =
      (exposures === false ? undefined : exposures?.dedupWindowMs) ?? DEFAULT_EXPOSURE_DEDUP_WINDOW_MS;
    this.rotationTimer = this.platform.timers.setTimeout(() => {
      this.deduper?.rotate();
      if (!this.closed) this.scheduleRotation();
    }, windowMs / 2);
  }

  override async close(): Promise<void> {
    if (this.rotationTimer !== undefined) this.platform.timers.clearTimeout(this.rotationTimer);
    await super.close();
  }

  /** @internal Started by `createClient`. */
  start(): Promise<void> {
    return this.begin(async () => {
      if (this.options.bootstrap !== undefined) this.install(this.options.bootstrap, undefined, 'bootstrap');
      const cached = await this.cache?.load();
      if (cached && (this.current === undefined || cached.snapshot.version >= this.current.version)) {
        if (this.install(cached.snapshot, cached.etag, 'cache')) this.confirmedAt = cached.savedAt;
      }
    });
  }

  /** The snapshot being served, if any (read-only; do not mutate). */
  snapshot(): EnvironmentSnapshot | undefined {
    return this.current?.snapshot;
  }

  /**
   * Evaluates one flag locally. Total: never throws; an unknown flag or a missing config comes back as
   * reason ERROR. Logs an exposure when a rollout or experiment rule served the value.
   */
  evaluate(flagKey: string, context: EvaluationContext, options?: EvaluateOptions): EvaluationResult {
    return this.run(flagKey, context, undefined, options);
  }

  /** Evaluates every flag for one context (exposures are logged unless `logExposure` is false). */
  evaluateAll(context: EvaluationContext, options?: EvaluateOptions): Record<string, EvaluationResult> {
    const out: Record<string, EvaluationResult> = {};
    const current = this.current;
    if (current === undefined) return out;
    for (const flag of current.compiled.flagList)
      out[flag.key] = this.run(flag.key, context, undefined, options);
    return out;
  }

  getBooleanValue(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): boolean {
    const result = this.run(flagKey, context, BOOLEAN_OPTIONS, options);
    const value = result.value;
    return typeof value === 'boolean' && result.reason !== 'ERROR' ? value : defaultValue;
  }

  getStringValue(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): string {
    const result = this.run(flagKey, context, STRING_OPTIONS, options);
    const value = result.value;
    return typeof value === 'string' && result.reason !== 'ERROR' ? value : defaultValue;
  }

  getNumberValue(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): number {
    const result = this.run(flagKey, context, NUMBER_OPTIONS, options);
    const value = result.value;
    return typeof value === 'number' && result.reason !== 'ERROR' ? value : defaultValue;
  }

  getObjectValue<T extends JsonObject>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): T {
    return this.getDetails(flagKey, 'object', defaultValue, context, options).value;
  }

  /** Typed evaluation with the reason, variant and error code; `value` is `defaultValue` on any error. */
  getDetails<T extends FlagValue>(
    flagKey: string,
    kind: FlagKind,
    defaultValue: T,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): EvaluationDetails<T> {
    const result = this.run(flagKey, context, KIND_OPTIONS[kind], options);
    return toDetails(flagKey, kind, defaultValue, result, this.current?.version);
  }

  getBooleanDetails(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ) {
    return this.getDetails(flagKey, 'boolean', defaultValue, context, options);
  }

  getStringDetails(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ) {
    return this.getDetails(flagKey, 'string', defaultValue, context, options);
  }

  getNumberDetails(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ) {
    return this.getDetails(flagKey, 'number', defaultValue, context, options);
  }

  getObjectDetails<T extends JsonObject>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    options?: EvaluateOptions,
  ): EvaluationDetails<T> {
    return this.getDetails(flagKey, 'object', defaultValue, context, options);
  }

  /** Queues a metric event (`checkout_error`, `purchase` with `{ value: 42.5 }`) for `unit`. Never throws. */
  track(eventName: string, unit: string, details?: TrackDetails): void {
    this.enqueueTrack(eventName, unit, details);
  }

  protected servedVersion(): number | undefined {
    return this.current?.version;
  }

  protected hasConfig(): boolean {
    return this.current !== undefined;
  }

  private run(
    flagKey: string,
    context: EvaluationContext,
    kindOptions: { kind: FlagKind } | undefined,
    options: EvaluateOptions | undefined,
  ): EvaluationResult {
    const current = this.current;
    if (current === undefined) return notReadyResult(flagKey) as EvaluationResult;
    const result = evaluate(current.compiled, flagKey, context, kindOptions);
    if (result.inExperiment === true && current.exposures !== null && options?.logExposure !== false)
      this.logExposure(current, current.exposures, result, context);
    return result;
  }

  /**
   * Queues an exposure for `result` unless the same (unit, flag, variant) was logged recently. Kept small
   * so it inlines into the evaluation hot path; the rare work (building the event) is in `emitExposure`.
   */
  private logExposure(
    current: Installed,
    exposures: Map<Readonly<EvaluationResult>, ExposureSlot>,
    result: Readonly<EvaluationResult>,
    context: EvaluationContext,
  ): void {
    try {
      const slot = exposures.get(result) ?? this.unpreparedSlot(current, result);
      if (slot === undefined) return;
      const readUnit = slot.readUnit;
      const unit = toUnit(readUnit === null ? context.targetingKey : readUnit(context));
      if (unit !== undefined && slot.dedup.shouldLog(unit, slot.variant))
        this.emitExposure(current, slot, unit);
    } catch (error) {
      this.platform.logger.error('exposure logging failed', { error: describeError(error) });
    }
  }

  private emitExposure(current: Installed, slot: ExposureSlot, unit: string): void {
    this.queue?.enqueue({
      type: 'exposure',
      flag: slot.flagKey,
      variant: slot.variant,
      unit,
      configVersion: current.version,
      timestamp: isoTimestamp(this.platform.clock.now()),
    });
  }

  /**
   * The slow path for an exposure result that was not prepared at install (core serves only prepared
   * ones today): finds the rule that served it.
   */
  private unpreparedSlot(current: Installed, result: Readonly<EvaluationResult>): ExposureSlot | undefined {
    const variant = result.variant;
    if (variant === undefined || this.deduper === undefined) return undefined;
    const rule = current.compiled.flags.get(result.flagKey)?.rules.find((r) => r.id === result.ruleId);
    return {
      flagKey: result.flagKey,
      variant,
      dedup: this.deduper.forFlag(result.flagKey),
      readUnit: rule === undefined ? null : unitReader(rule),
    };
  }

  /**
   * Installs the version a server key's stream notice carries as a patch, when it applies to the config held
   * (same environment, base = the version held, which came from the server); no request is made.
   */
  protected override applyNotice(notice: ConfigNotice): boolean {
    const current = this.current;
    if (current === undefined || notice.patch === undefined || this.source !== 'server') return false;
    const patched = applyConfigPatch(current.snapshot, notice);
    if (patched === undefined) {
      this.platform.logger.debug('config patch does not apply to the version held; refetching', {
        held: current.version,
        version: notice.version,
      });
      return false;
    }
    if (!this.install(patched.snapshot, notice.etag, 'server', patched.flagsChanged)) return false;
    void this.saveCache(patched.snapshot, notice.etag);
    return true;
  }

  /**
   * Installs a snapshot if it compiles; emits `change` with the flags whose definition changed (`flagsChanged`
   * when the caller knows them, as a patch does).
   */
  private install(
    snapshot: EnvironmentSnapshot,
    etag: string | undefined,
    source: ConfigSource,
    flagsChanged?: string[],
  ): boolean {
    // A patched snapshot shares its unchanged flags and segments with the one held: they are not compiled again.
    const prepared = prepareSnapshot(snapshot, this.current?.compiled);
    if (!prepared.ok) {
      this.platform.logger.warn('config rejected', { source, issues: prepared.issues });
      this.lastError = `invalid config from ${source}: ${prepared.issues.map((i) => i.message).join('; ')}`;
      return false;
    }
    if (prepared.value.issues.length > 0)
      this.platform.logger.warn('config has broken flags or segments', {
        issues: prepared.value.issues.slice(0, 5),
      });
    const previous = this.current;
    const exposures = this.deduper === undefined ? null : exposureSlots(prepared.value, this.deduper);
    this.current = { snapshot, compiled: prepared.value, version: snapshot.version, etag, exposures };
    this.source = source;
    if (previous !== undefined && previous.version !== snapshot.version)
      this.emitter.emit('change', {
        version: snapshot.version,
        flagsChanged: flagsChanged ?? changedFlags(previous.snapshot, snapshot),
      });
    return true;
  }

  protected async fetchOnce(): Promise<boolean> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.clientKey}`,
      accept: 'application/json',
    };
    const held = this.current;
    const etag = held?.etag;
    if (etag !== undefined && this.source !== 'bootstrap') headers['if-none-match'] = etag;
    let response: Response;
    try {
      response = await fetchWithTimeout(this.platform, joinUrl(this.options.url, '/sdk/v1/config'), {
        headers,
        timeoutMs: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      });
    } catch (error) {
      this.lastError = `config request failed: ${describeError(error)}`;
      return false;
    }
    if (response.status === HTTP_NOT_MODIFIED) {
      await response.body?.cancel().catch(() => {});
      if (this.current !== undefined) this.source = 'server';
      return true;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      this.lastError = `config request answered HTTP ${response.status}`;
      if (response.status === 401 || response.status === 403)
        this.platform.logger.error(
          'the server refused the client key for /sdk/v1/config (a server key is needed)',
          {
            status: response.status,
          },
        );
      return false;
    }
    let snapshot: EnvironmentSnapshot;
    try {
      snapshot = (await response.json()) as EnvironmentSnapshot;
    } catch (error) {
      this.lastError = `config response is not JSON: ${describeError(error)}`;
      return false;
    }
    if (this.closed) return true;
    // A stream patch installed a newer version while this answer was on its way: keep the newer one.
    const now = this.current;
    if (
      now !== held &&
      now !== undefined &&
      typeof snapshot?.version === 'number' &&
      snapshot.version < now.version
    )
      return true;
    const newEtag = response.headers.get('etag') ?? undefined;
    if (!this.install(snapshot, newEtag, 'server')) return false;
    void this.saveCache(snapshot, newEtag);
    return true;
  }

  private async saveCache(snapshot: EnvironmentSnapshot, etag: string | undefined): Promise<void> {
    if (this.cache === undefined) return;
    try {
      const entry: CachedSnapshot = { snapshot, savedAt: this.platform.clock.now() };
      if (etag !== undefined) entry.etag = etag;
      await this.cache.save(entry);
    } catch (error) {
      this.platform.logger.warn('could not save the config cache', { error: describeError(error) });
    }
  }
}

/** Keys of flags added, removed or changed between two snapshots. */
export function changedFlags(before: EnvironmentSnapshot, after: EnvironmentSnapshot): string[] {
  const old = new Map(before.flags.map((flag) => [flag.key, JSON.stringify(flag)]));
  const changed: string[] = [];
  for (const flag of after.flags) {
    if (old.get(flag.key) !== JSON.stringify(flag)) changed.push(flag.key);
    old.delete(flag.key);
  }
  changed.push(...old.keys());
  return changed;
}

/**
 * Creates a server-mode client: starts from `bootstrap` or the cache when given, fetches the config,
 * then follows the change stream (polling when it is down). Returns at once; use
 * `await client.waitForFirstAttempt()` to wait for the first server answer.
 */
export function createClient(options: ClientOptions): DimmerClient {
  const client = new DimmerClient(options);
  void client.start();
  return client;
}
