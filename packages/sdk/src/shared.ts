/** Everything both builds export (no Node or DOM-only APIs). */
export type { BaseClientOptions } from './base.ts';
export type { CachedSnapshot, ClientOptions, ExposureOptions, SnapshotCache } from './client.ts';
export { changedFlags, DimmerClient, prepareSnapshot } from './client.ts';
export type { EventQueueOptions } from './events.ts';
export { parseRetryAfter } from './events.ts';
export type { BackoffOptions, Platform, PlatformOptions } from './platform.ts';
export { backoffDelay, consoleLogger, silentLogger } from './platform.ts';
export type {
  BrowserClientOptions,
  CachedResolution,
  ResolutionCache,
  ResolvedFlag,
} from './remote-client.ts';
export { createBrowserClient, DimmerBrowserClient, stableStringify } from './remote-client.ts';
export type { ServerSentEvent } from './sse.ts';
export { SseParser } from './sse.ts';
export type { SyncOptions } from './sync.ts';
export { DEFAULT_REFETCH_JITTER_MS } from './sync.ts';
export type {
  ClientEventName,
  ClientEvents,
  ClientListener,
  ClientState,
  ClientStatus,
  Clock,
  ConfigSource,
  EvaluateOptions,
  EvaluationDetails,
  ExposureEvent,
  FetchFn,
  Logger,
  SdkErrorCode,
  SdkEvent,
  Timers,
  TrackDetails,
  TrackEvent,
} from './types.ts';
export { localStorageCache, localStorageResolutionCache } from './web-storage.ts';
