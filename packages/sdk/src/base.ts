/**
 * What the local (server-mode) and remote (browser-mode) clients share: the READY / STALE / ERROR state
 * machine with its events, config age, the event queue and typed value extraction.
 */
import type { FlagKind, FlagValue, JsonObject } from '@dimmer/core';
import { ClientEmitter } from './emitter.ts';
import { EventQueue, type EventQueueOptions, isoTimestamp } from './events.ts';
import type { ConfigNotice } from './patch.ts';
import { describeError, type Platform, type PlatformOptions, resolvePlatform } from './platform.ts';
import { DEFAULT_REFETCH_JITTER_MS, SyncLoop, type SyncOptions } from './sync.ts';
import type {
  ClientEventName,
  ClientListener,
  ClientState,
  ClientStatus,
  ConfigSource,
  EvaluationDetails,
  SdkErrorCode,
  SdkEvent,
  TimerHandle,
  TrackDetails,
} from './types.ts';

/** Options common to every client. */
export interface BaseClientOptions extends PlatformOptions, SyncOptions {
  /** Base URL of the Dimmer server, e.g. `https://flags.example.com`. */
  url: string;
  /** A client key (`Authorization: Bearer`); server keys for local evaluation, browser keys for remote. */
  clientKey: string;
  /** Batching of exposures and tracked events; `false` sends nothing. */
  events?: EventQueueOptions | false;
}

/** The shape both clients evaluate into before typing: a core EvaluationResult or a remote resolution. */
export interface RawResult {
  value?: FlagValue | undefined;
  variant?: string | undefined;
  reason: EvaluationDetails['reason'];
  errorCode?: SdkErrorCode | undefined;
  errorMessage?: string | undefined;
  ruleId?: string | undefined;
}

/** True when `value` has the JavaScript type of flag kind `kind`. */
export function hasKind(value: unknown, kind: FlagKind): boolean {
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

/** Builds typed evaluation details from a raw result, falling back to `defaultValue` on errors and type mismatches. */
export function toDetails<T extends FlagValue>(
  flagKey: string,
  kind: FlagKind,
  defaultValue: T,
  raw: RawResult,
  configVersion: number | undefined,
): EvaluationDetails<T> {
  let details: EvaluationDetails<T>;
  if (raw.reason === 'ERROR' || raw.value === undefined) {
    details = { flagKey, value: defaultValue, reason: 'ERROR', errorCode: raw.errorCode ?? 'GENERAL' };
    if (raw.errorMessage !== undefined) details.errorMessage = raw.errorMessage;
  } else if (!hasKind(raw.value, kind)) {
    details = {
      flagKey,
      value: defaultValue,
      reason: 'ERROR',
      errorCode: 'TYPE_MISMATCH',
      errorMessage: `flag ${JSON.stringify(flagKey)} is not a ${kind} flag`,
    };
  } else {
    details = { flagKey, value: raw.value as T, reason: raw.reason };
    if (raw.variant !== undefined) details.variant = raw.variant;
    if (raw.ruleId !== undefined) details.ruleId = raw.ruleId;
    if (raw.errorMessage !== undefined) details.errorMessage = raw.errorMessage;
  }
  if (configVersion !== undefined) details.configVersion = configVersion;
  return details;
}

/** The result served when the client has no config at all. */
export function notReadyResult(flagKey: string): RawResult & { flagKey: string } {
  return {
    flagKey,
    reason: 'ERROR',
    errorCode: 'PROVIDER_NOT_READY',
    errorMessage: 'no flag configuration is available yet (server unreachable and no bootstrap or cache)',
  };
}

export type { JsonObject };

/** State machine, events, event queue and sync loop shared by both clients. */
export abstract class ClientBase {
  protected readonly platform: Platform;
  protected readonly emitter: ClientEmitter;
  protected readonly queue: EventQueue | undefined;
  protected readonly sync: SyncLoop;
  protected state: ClientState = 'NOT_READY';
  protected source: ConfigSource = 'none';
  /** Epoch ms when the served config was last confirmed current (or saved, for a cache). */
  protected confirmedAt: number | undefined;
  protected lastError: string | undefined;
  protected closed = false;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;
  private refetchTimer: TimerHandle | undefined;
  private readonly firstAttempt: Promise<void>;
  private resolveFirstAttempt!: () => void;

  constructor(protected readonly options: BaseClientOptions) {
    this.platform = resolvePlatform(options);
    this.emitter = new ClientEmitter(this.platform.logger);
    this.queue =
      options.events === false
        ? undefined
        : new EventQueue(
            { url: options.url, clientKey: options.clientKey },
            this.platform,
            options.events ?? {},
          );
    this.firstAttempt = new Promise((resolve) => {
      this.resolveFirstAttempt = resolve;
    });
    this.sync = new SyncLoop({ url: options.url, clientKey: options.clientKey }, this.platform, options, {
      refresh: () => this.refresh(),
      onNotice: (notice) => this.onNotice(notice),
      onStreamState: (connected, error) => {
        if (!connected && error !== undefined) {
          this.lastError = error;
          this.platform.logger.debug('stream unavailable', { error });
        }
      },
      onActivity: () => {
        if (this.state === 'READY' && this.refreshing === undefined)
          this.confirmedAt = this.platform.clock.now();
      },
    });
  }

  /** The version of the config (or resolution) being served, if any. */
  protected abstract servedVersion(): number | undefined;
  /** Whether anything can be served (a config or a resolution). */
  protected abstract hasConfig(): boolean;
  /** Fetches once from the server; resolves true on 200/304, false on failure. Never rejects. */
  protected abstract fetchOnce(): Promise<boolean>;

  /** Loads caches, makes the first request, then keeps the client current. Called by the factories. */
  protected async begin(prepare: () => Promise<void>): Promise<void> {
    try {
      await prepare();
    } catch (error) {
      this.platform.logger.warn('could not load the cached config', { error: String(error) });
    }
    await this.refresh();
    this.resolveFirstAttempt();
    if (!this.closed) this.sync.start();
  }

  /** Resolves once the first request to the server finished (successfully or not); never rejects. */
  async waitForFirstAttempt(): Promise<ClientStatus> {
    await this.firstAttempt;
    return this.status();
  }

  /** Current state, config version and config age. */
  status(): ClientStatus {
    const version = this.servedVersion();
    const status: ClientStatus = {
      state: this.state,
      source: this.source,
      streaming: this.sync.streaming,
      droppedEvents: this.queue?.dropped ?? 0,
    };
    if (version !== undefined) status.configVersion = version;
    if (this.confirmedAt !== undefined)
      status.configAgeMs = Math.max(0, this.platform.clock.now() - this.confirmedAt);
    if (this.lastError !== undefined) status.lastError = this.lastError;
    return status;
  }

  /** Subscribes to `ready`, `change`, `stale` or `error`; returns the unsubscribe function. */
  on<E extends ClientEventName>(event: E, listener: ClientListener<E>): () => void {
    return this.emitter.on(event, listener);
  }

  /** Sends queued exposures and events now; resolves when done or given up on. Never rejects. */
  async flush(): Promise<void> {
    try {
      await this.queue?.flush();
    } catch (error) {
      this.platform.logger.error('flush failed', { error: String(error) });
    }
  }

  /** Stops the stream and polling and delivers the remaining events (within the close timeout). Never rejects. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sync.stop();
    if (this.refetchTimer !== undefined) this.platform.timers.clearTimeout(this.refetchTimer);
    this.refetchTimer = undefined;
    try {
      await this.queue?.close();
    } catch (error) {
      this.platform.logger.error('close failed', { error: String(error) });
    }
  }

  /** Queues a metric event for `unit`; dropped silently (and counted) when it cannot be sent. Never throws. */
  protected enqueueTrack(
    eventName: string,
    unit: string | undefined,
    details: TrackDetails | undefined,
  ): void {
    try {
      if (this.queue === undefined) return;
      if (typeof eventName !== 'string' || eventName === '' || typeof unit !== 'string' || unit === '') {
        this.platform.logger.warn('track ignored: an event name and a unit are required', { eventName });
        return;
      }
      const event: SdkEvent = {
        type: 'track',
        name: eventName,
        unit,
        timestamp: isoTimestamp(details?.timestamp ?? this.platform.clock.now()),
      };
      if (typeof details?.value === 'number' && Number.isFinite(details.value)) event.value = details.value;
      this.queue.enqueue(event);
    } catch (error) {
      this.platform.logger.error('track failed', { error: String(error) });
    }
  }

  /** Re-fetches, coalescing concurrent calls into at most one more request. Never rejects. */
  protected refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        if (this.closed) return;
        const ok = await this.fetchOnce();
        if (ok) this.markCurrent();
        else this.markUnreachable();
      } while (this.refreshAgain);
    })()
      .catch((error: unknown) => {
        this.platform.logger.error('refresh failed', { error: String(error) });
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Hook for subclasses that need the announced version (called before the comparison). */
  protected onNoticeVersion(_version: number): void {}

  /**
   * Hook for subclasses that can install what a notice carries (a patch) without a request: true when the
   * announced version is served now, false to refetch as for a bare notice. May throw (counted as false).
   */
  protected applyNotice(_notice: ConfigNotice): boolean {
    return false;
  }

  private onNotice(notice: ConfigNotice): void {
    const version = notice.version;
    this.onNoticeVersion(version);
    if (this.hasConfig() && version === this.servedVersion()) {
      this.markCurrent();
      return;
    }
    if (!this.closed && this.tryApply(notice)) {
      // A refetch still waiting on its jitter was for an older notice: what it would fetch is served.
      if (this.refetchTimer !== undefined) this.platform.timers.clearTimeout(this.refetchTimer);
      this.refetchTimer = undefined;
      this.markCurrent();
      return;
    }
    this.refetchSoon();
  }

  private tryApply(notice: ConfigNotice): boolean {
    try {
      return this.applyNotice(notice);
    } catch (error) {
      this.platform.logger.warn('could not apply the config patch; refetching', {
        error: describeError(error),
      });
      return false;
    }
  }

  /**
   * Refetches after a random part of the jitter (one pending refetch at a time); at once while no config is
   * served yet (the herd the jitter spreads is of clients that all hold the previous version).
   */
  private refetchSoon(): void {
    if (this.refetchTimer !== undefined || this.closed) return;
    if (!this.hasConfig()) {
      void this.refresh();
      return;
    }
    const delay = Math.floor(
      this.platform.random() * (this.options.refetchJitterMs ?? DEFAULT_REFETCH_JITTER_MS),
    );
    if (delay <= 0) {
      void this.refresh();
      return;
    }
    this.refetchTimer = this.platform.timers.setTimeout(() => {
      this.refetchTimer = undefined;
      if (!this.closed) void this.refresh();
    }, delay);
  }

  /** The server confirmed that what is served is current. */
  protected markCurrent(): void {
    this.confirmedAt = this.platform.clock.now();
    this.lastError = undefined;
    this.setState(this.hasConfig() ? 'READY' : 'ERROR', 'the server has no configuration for this key');
  }

  /** The server could not be reached or refused the request. */
  protected markUnreachable(): void {
    const message = this.lastError ?? 'the server is unreachable';
    this.setState(this.hasConfig() ? 'STALE' : 'ERROR', message);
  }

  protected setState(next: ClientState, message: string): void {
    if (next === this.state) return;
    this.state = next;
    if (next === 'READY') this.emitter.emit('ready', this.readyPayload());
    else if (next === 'STALE') this.emitter.emit('stale', { message });
    else if (next === 'ERROR') this.emitter.emit('error', { message });
  }

  private readyPayload(): { version?: number } {
    const version = this.servedVersion();
    return version === undefined ? {} : { version };
  }
}
