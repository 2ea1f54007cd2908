/**
 * Shared types of the Dimmer SDK: the injectable platform (clock, timers, fetch, randomness, logger),
 * client states, and the evaluation details handed to application code.
 */
import type { ErrorCode, EvaluationResult, FlagValue, JsonObject, Reason } from '@dimmer/core';

/** A source of wall-clock time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** Opaque timer handle as returned by `Timers.setTimeout`. */
export type TimerHandle = unknown;

/** Timer functions; tests pass fake timers, Node defaults unref the handles so a client never keeps a process alive. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Structured logger; every method is optional to call and must not throw. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The `fetch` function the client uses (the global one by default). */
export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

/**
 * Where the client stands with the server:
 * NOT_READY before the first attempt finished; READY when the config is confirmed current
 * (stream connected or a fetch/poll succeeded); STALE when it serves a bootstrap, cached or last good
 * config while the server is unreachable; ERROR when it has nothing to serve (code defaults are returned).
 */
export type ClientState = 'NOT_READY' | 'READY' | 'STALE' | 'ERROR';

/** Where the config being served came from. */
export type ConfigSource = 'server' | 'cache' | 'bootstrap' | 'none';

/** A snapshot of the client's health, for dashboards and readiness probes. */
export interface ClientStatus {
  state: ClientState;
  source: ConfigSource;
  /** Config version being served, if any. */
  configVersion?: number;
  /** Milliseconds since the served config was last confirmed current by the server (or saved, for a cache). */
  configAgeMs?: number;
  /** Whether the server-sent-event stream is connected (false means polling). */
  streaming: boolean;
  /** The most recent connection or HTTP problem, if any. */
  lastError?: string;
  /** Events dropped because the queue was full, the server refused them or retries ran out. */
  droppedEvents: number;
}

/** Error codes of the SDK: the core's OpenFeature codes plus PROVIDER_NOT_READY when no config exists yet. */
export type SdkErrorCode = ErrorCode | 'PROVIDER_NOT_READY';

/** The outcome of one flag evaluation as given to application code; `value` falls back to the code default. */
export interface EvaluationDetails<T extends FlagValue = FlagValue> {
  flagKey: string;
  value: T;
  variant?: string;
  reason: Reason;
  errorCode?: SdkErrorCode;
  errorMessage?: string;
  ruleId?: string;
  /** Config version that produced the value (absent when nothing was served). */
  configVersion?: number;
}

/** Per-call evaluation options. */
export interface EvaluateOptions {
  /** Set false to skip exposure logging for this call (e.g. prefetching a value that may never be shown). */
  logExposure?: boolean;
}

/** Extra fields of a tracked metric event. */
export interface TrackDetails {
  /** Numeric value of the event (revenue, latency in ms, …); omitted for count-only events. */
  value?: number;
  /** When the event happened, epoch milliseconds; defaults to now. */
  timestamp?: number;
}

/** The events sent to `POST /v1/events`, as the contract defines them. */
export type { ExposureEvent, SdkEvent, TrackEvent } from '@dimmer/api';

/** Events a client emits to listeners. */
export interface ClientEvents {
  /** The client became READY (first time or after a STALE/ERROR period). */
  ready: { version?: number };
  /** A new config (or resolution) was installed; `flagsChanged` lists the flag keys whose definition or value changed. */
  change: { version: number; flagsChanged: string[] };
  /** The server became unreachable while a config is being served. */
  stale: { message: string };
  /** No config can be served, or the server refused the key. */
  error: { message: string };
}

export type ClientEventName = keyof ClientEvents;
export type ClientListener<E extends ClientEventName> = (payload: ClientEvents[E]) => void;

export type { EvaluationResult, FlagValue, JsonObject, Reason };
