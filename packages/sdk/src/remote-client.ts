/**
 * The browser-mode client: never receives rules or segments. It asks the server to evaluate every flag
 * for its one user's context (`POST /sdk/v1/resolve`, or OFREP bulk evaluation), with ETags, re-asks on
 * context changes and on stream notices, and serves the answers synchronously. It does not log exposures:
 * the server logs them when it resolves.
 */
import type { ResolvedFlag } from '@dimmer/api';
import type { EvaluationContext, FlagKind, FlagValue, JsonObject } from '@dimmer/core';
import { type BaseClientOptions, ClientBase, notReadyResult, type RawResult, toDetails } from './base.ts';
import { describeError, joinUrl } from './platform.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS, fetchWithTimeout } from './sync.ts';
import type { EvaluationDetails, TrackDetails } from './types.ts';

/** One flag as resolved by the server for the client's context. */
export type { ResolvedFlag };

/** A resolution as kept by a cache: the flags of one context. */
export interface CachedResolution {
  /** Stable JSON of the context the flags were resolved for. */
  contextKey: string;
  flags: Record<string, ResolvedFlag>;
  version?: number;
  etag?: string;
  /** Epoch milliseconds when it was saved. */
  savedAt: number;
}

/** Optional persistence of the last resolution (localStorage in browsers). */
export interface ResolutionCache {
  load(): CachedResolution | undefined | Promise<CachedResolution | undefined>;
  save(entry: CachedResolution): void | Promise<void>;
}

/** Options of `createBrowserClient` (remote resolution). */
export interface BrowserClientOptions extends BaseClientOptions {
  /** The user's evaluation context; change it later with `setContext`. */
  context?: EvaluationContext;
  /** `resolve` (Dimmer's `/sdk/v1/resolve`, default) or `ofrep` (`/ofrep/v1/evaluate/flags`). */
  protocol?: 'resolve' | 'ofrep';
  /** Flag values to serve until the first resolution arrives. */
  bootstrap?: Record<string, ResolvedFlag>;
  /** Where the last resolution is kept (used only for the same context). */
  cache?: ResolutionCache;
  /**
   * Whether the server logs exposures when it resolves (default true). Set false while prefetching for a
   * context whose values may never be shown; only the `resolve` protocol can say so.
   */
  logExposures?: boolean;
}

interface Resolution {
  contextKey: string;
  flags: Map<string, ResolvedFlag>;
  version: number | undefined;
  etag: string | undefined;
}

const HTTP_NOT_MODIFIED = 304;

/** JSON with object keys sorted, so equal contexts give equal strings. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${stableStringify(record[key])}`).join(',')}}`;
}

const REASONS = new Set(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR']);

function toResolved(raw: unknown): ResolvedFlag | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  const reason =
    typeof r.reason === 'string' && REASONS.has(r.reason) ? (r.reason as ResolvedFlag['reason']) : undefined;
  const errorCode = typeof r.errorCode === 'string' ? (r.errorCode as ResolvedFlag['errorCode']) : undefined;
  const out: ResolvedFlag = { reason: reason ?? (errorCode !== undefined ? 'ERROR' : 'TARGETING_MATCH') };
  if (r.value !== undefined && r.value !== null && errorCode === undefined) out.value = r.value as FlagValue;
  if (typeof r.variant === 'string') out.variant = r.variant;
  if (errorCode !== undefined) out.errorCode = errorCode;
  const message = typeof r.errorMessage === 'string' ? r.errorMessage : r.errorDetails;
  if (typeof message === 'string') out.errorMessage = message;
  return out;
}

/** Parses a `/sdk/v1/resolve` or OFREP bulk body into resolved flags (and the version, when given). */
export function parseResolution(
  body: unknown,
  protocol: 'resolve' | 'ofrep',
): { flags: Map<string, ResolvedFlag>; version: number | undefined } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const flags = new Map<string, ResolvedFlag>();
  if (protocol === 'ofrep') {
    if (!Array.isArray(b.flags)) return undefined;
    for (const entry of b.flags) {
      const key = (entry as { key?: unknown } | null)?.key;
      const resolved = toResolved(entry);
      if (typeof key === 'string' && resolved) flags.set(key, resolved);
    }
    return { flags, version: undefined };
  }
  if (typeof b.flags !== 'object' || b.flags === null || Array.isArray(b.flags)) return undefined;
  for (const [key, entry] of Object.entries(b.flags as Record<string, unknown>)) {
    const resolved = toResolved(entry);
    if (resolved) flags.set(key, resolved);
  }
  return { flags, version: typeof b.version === 'number' ? b.version : undefined };
}

/** The remote-resolution client bound to one user's context. Create it with `createBrowserClient`. */
export class DimmerBrowserClient extends ClientBase {
  private context: EvaluationContext;
  private contextKey: string;
  private current: Resolution | undefined;
  /** Highest config version announced by the stream (OFREP answers carry none). */
  private noticedVersion: number | undefined;
  private readonly protocol: 'resolve' | 'ofrep';
  private readonly cache: ResolutionCache | undefined;

  constructor(protected override readonly options: BrowserClientOptions) {
    super(options);
    this.context = options.context ?? {};
    this.contextKey = stableStringify(this.context);
    this.protocol = options.protocol ?? 'resolve';
    this.cache = options.cache;
  }

  /** @internal Started by `createBrowserClient`. */
  start(): Promise<void> {
    return this.begin(async () => {
      if (this.options.bootstrap !== undefined) {
        this.current = {
          contextKey: this.contextKey,
          flags: new Map(Object.entries(this.options.bootstrap)),
          version: undefined,
          etag: undefined,
        };
        this.source = 'bootstrap';
      }
      const cached = await this.cache?.load();
      if (cached && cached.contextKey === this.contextKey) {
        this.current = {
          contextKey: cached.contextKey,
          flags: new Map(Object.entries(cached.flags)),
          version: cached.version,
          etag: cached.etag,
        };
        this.source = 'cache';
        this.confirmedAt = cached.savedAt;
      }
    });
  }

  /** The context the served values were (or are being) resolved for. */
  getContext(): EvaluationContext {
    return this.context;
  }

  /**
   * Replaces the user's context and re-resolves every flag; until the answer arrives the previous values
   * are served. Resolves when the new values are in (or the request failed). Never rejects.
   */
  async setContext(context: EvaluationContext): Promise<void> {
    const key = stableStringify(context);
    if (key === this.contextKey) return;
    this.context = context;
    this.contextKey = key;
    await this.refresh();
  }

  /** Keys of every resolved flag. */
  flagKeys(): string[] {
    return this.current === undefined ? [] : [...this.current.flags.keys()];
  }

  /** The raw resolution of one flag for the current context. */
  resolution(flagKey: string): ResolvedFlag | undefined {
    return this.current?.flags.get(flagKey);
  }

  getBooleanValue(flagKey: string, defaultValue: boolean): boolean {
    return this.getDetails(flagKey, 'boolean', defaultValue).value;
  }

  getStringValue(flagKey: string, defaultValue: string): string {
    return this.getDetails(flagKey, 'string', defaultValue).value;
  }

  getNumberValue(flagKey: string, defaultValue: number): number {
    return this.getDetails(flagKey, 'number', defaultValue).value;
  }

  getObjectValue<T extends JsonObject>(flagKey: string, defaultValue: T): T {
    return this.getDetails(flagKey, 'object', defaultValue).value;
  }

  getBooleanDetails(flagKey: string, defaultValue: boolean): EvaluationDetails<boolean> {
    return this.getDetails(flagKey, 'boolean', defaultValue);
  }

  getStringDetails(flagKey: string, defaultValue: string): EvaluationDetails<string> {
    return this.getDetails(flagKey, 'string', defaultValue);
  }

  getNumberDetails(flagKey: string, defaultValue: number): EvaluationDetails<number> {
    return this.getDetails(flagKey, 'number', defaultValue);
  }

  getObjectDetails<T extends JsonObject>(flagKey: string, defaultValue: T): EvaluationDetails<T> {
    return this.getDetails(flagKey, 'object', defaultValue);
  }

  /** Typed value with reason, variant and error code for the current context; never throws. */
  getDetails<T extends FlagValue>(flagKey: string, kind: FlagKind, defaultValue: T): EvaluationDetails<T> {
    const current = this.current;
    if (current === undefined)
      return toDetails(flagKey, kind, defaultValue, notReadyResult(flagKey), undefined);
    const resolved = current.flags.get(flagKey);
    const raw: RawResult = resolved ?? {
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: `flag ${JSON.stringify(flagKey)} was not resolved for this context`,
    };
    return toDetails(flagKey, kind, defaultValue, raw, current.version);
  }

  /** Queues a metric event for the context's `targetingKey` (or `details.unit`). Never throws. */
  track(eventName: string, details?: TrackDetails & { unit?: string }): void {
    const unit = details?.unit ?? this.context.targetingKey;
    this.enqueueTrack(eventName, unit, details);
  }

  protected servedVersion(): number | undefined {
    return this.current?.version ?? undefined;
  }

  protected hasConfig(): boolean {
    return this.current !== undefined;
  }

  protected override onNoticeVersion(version: number): void {
    this.noticedVersion = Math.max(version, this.noticedVersion ?? version);
  }

  protected async fetchOnce(): Promise<boolean> {
    const contextKey = this.contextKey;
    const context = this.context;
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.options.clientKey}`,
      'content-type': 'application/json',
      accept: 'application/json',
    };
    const previous = this.current;
    if (previous?.etag !== undefined && previous.contextKey === contextKey)
      headers['if-none-match'] = previous.etag;
    const path = this.protocol === 'ofrep' ? '/ofrep/v1/evaluate/flags' : '/sdk/v1/resolve';
    let response: Response;
    try {
      response = await fetchWithTimeout(this.platform, joinUrl(this.options.url, path), {
        method: 'POST',
        headers,
        body: JSON.stringify(
          this.protocol === 'resolve' && this.options.logExposures === false
            ? { context, logExposures: false }
            : { context },
        ),
        timeoutMs: this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      });
    } catch (error) {
      this.lastError = `resolve request failed: ${describeError(error)}`;
      return false;
    }
    if (response.status === HTTP_NOT_MODIFIED) {
      await response.body?.cancel().catch(() => {});
      if (previous !== undefined && this.protocol === 'ofrep') previous.version = this.noticedVersion;
      this.source = 'server';
      return true;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      this.lastError = `resolve request answered HTTP ${response.status}`;
      return false;
    }
    let parsed: ReturnType<typeof parseResolution>;
    try {
      parsed = parseResolution(await response.json(), this.protocol);
    } catch (error) {
      this.lastError = `resolve response is not JSON: ${describeError(error)}`;
      return false;
    }
    if (parsed === undefined) {
      this.lastError = 'resolve response has an unexpected shape';
      return false;
    }
    // The context changed while this request was in flight: its answer belongs to the old user.
    if (contextKey !== this.contextKey) return true;
    const version = parsed.version ?? this.noticedVersion;
    const etag = response.headers.get('etag') ?? undefined;
    this.current = { contextKey, flags: parsed.flags, version, etag };
    this.source = 'server';
    const changed = previous === undefined ? [] : changedResolutions(previous.flags, parsed.flags);
    // A context change is announced by whoever called setContext; `change` is for config changes.
    if (previous !== undefined && previous.contextKey === contextKey && changed.length > 0)
      this.emitter.emit('change', { version: version ?? 0, flagsChanged: changed });
    void this.saveCache();
    return true;
  }

  private async saveCache(): Promise<void> {
    const current = this.current;
    if (this.cache === undefined || current === undefined) return;
    try {
      const entry: CachedResolution = {
        contextKey: current.contextKey,
        flags: Object.fromEntries(current.flags),
        savedAt: this.platform.clock.now(),
      };
      if (current.version !== undefined) entry.version = current.version;
      if (current.etag !== undefined) entry.etag = current.etag;
      await this.cache.save(entry);
    } catch (error) {
      this.platform.logger.warn('could not save the resolution cache', { error: describeError(error) });
    }
  }
}

/** Keys whose resolved value or variant differs between two resolutions. */
export function changedResolutions(
  before: Map<string, ResolvedFlag>,
  after: Map<string, ResolvedFlag>,
): string[] {
  const changed: string[] = [];
  for (const [key, flag] of after) {
    const old = before.get(key);
    if (
      old === undefined ||
      old.variant !== flag.variant ||
      stableStringify(old.value) !== stableStringify(flag.value)
    )
      changed.push(key);
  }
  for (const key of before.keys()) if (!after.has(key)) changed.push(key);
  return changed;
}

/**
 * Creates a browser-mode client for one user's context: it resolves every flag on the server and serves
 * the answers synchronously, re-resolving on `setContext` and on change notices. Returns at once; use
 * `await client.waitForFirstAttempt()` to wait for the first answer.
 */
export function createBrowserClient(options: BrowserClientOptions): DimmerBrowserClient {
  const client = new DimmerBrowserClient(options);
  void client.start();
  return client;
}
