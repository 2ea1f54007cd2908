/**
 * The OpenFeature web provider backed by a Dimmer browser client (remote resolution): every value type,
 * reasons and error codes, provider events, context changes (re-resolved on the server) and `track`.
 * Import from `@dimmer/sdk/openfeature/web`; needs `@openfeature/web-sdk` as a peer. No Node APIs.
 */

import type { EvaluationContext as DimmerContext, FlagKind, FlagValue } from '@dimmer/core';
import {
  type ErrorCode,
  type EvaluationContext,
  GeneralError,
  type JsonValue,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/web-sdk';
import { type BrowserClientOptions, createBrowserClient, DimmerBrowserClient } from './remote-client.ts';

export interface DimmerWebProviderOptions {
  /** Close the client (flushing its events) when OpenFeature closes the provider; default true. */
  closeClient?: boolean;
}

/**
 * An OpenFeature web provider. Give it a `DimmerBrowserClient`, or client options without a context:
 * the client is then created in `initialize` with OpenFeature's context.
 */
export class DimmerWebProvider implements Provider {
  readonly metadata = { name: 'dimmer-web' } as const;
  readonly runsOn = 'client' as const;
  readonly events = new OpenFeatureEventEmitter();
  private clientInstance: DimmerBrowserClient | undefined;
  private unsubscribers: (() => void)[] = [];
  private readonly closeClient: boolean;

  constructor(
    private readonly source: DimmerBrowserClient | Omit<BrowserClientOptions, 'context'>,
    options: DimmerWebProviderOptions = {},
  ) {
    if (source instanceof DimmerBrowserClient) this.clientInstance = source;
    this.closeClient = options.closeClient ?? true;
  }

  /** The client backing this provider (created by `initialize` when options were given). */
  get client(): DimmerBrowserClient | undefined {
    return this.clientInstance;
  }

  async initialize(context?: EvaluationContext): Promise<void> {
    let client = this.clientInstance;
    if (client === undefined) {
      client = createBrowserClient({
        ...(this.source as BrowserClientOptions),
        context: (context ?? {}) as DimmerContext,
      });
      this.clientInstance = client;
      await client.waitForFirstAttempt();
    } else {
      await client.waitForFirstAttempt();
      await client.setContext((context ?? {}) as DimmerContext);
    }
    this.subscribe(client);
    const status = client.status();
    if (status.state === 'ERROR') throw new GeneralError(status.lastError ?? 'no flag values available');
    if (status.state === 'STALE') {
      setTimeout(() => {
        if (client.status().state === 'STALE')
          this.events.emit(ProviderEvents.Stale, { message: status.lastError ?? 'stale' });
      }, 0);
    }
  }

  /** Re-resolves every flag for the new context; rejects (provider ERROR) when the server could not answer. */
  async onContextChange(_oldContext: EvaluationContext, newContext: EvaluationContext): Promise<void> {
    const client = this.clientInstance;
    if (client === undefined) return;
    await client.setContext(newContext as DimmerContext);
    const status = client.status();
    if (status.state !== 'READY') throw new GeneralError(status.lastError ?? `provider is ${status.state}`);
  }

  async onClose(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    if (this.closeClient) await this.clientInstance?.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean): ResolutionDetails<boolean> {
    return this.resolve(flagKey, 'boolean', defaultValue);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string): ResolutionDetails<string> {
    return this.resolve(flagKey, 'string', defaultValue);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number): ResolutionDetails<number> {
    return this.resolve(flagKey, 'number', defaultValue);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): ResolutionDetails<T> {
    return this.resolve(flagKey, 'object', defaultValue);
  }

  /** Maps `track(name, context, { value })` to a Dimmer metric event for the context's `targetingKey`. */
  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void {
    const unit = context.targetingKey;
    const extra = details.value === undefined ? {} : { value: details.value };
    this.clientInstance?.track(trackingEventName, unit === undefined ? extra : { ...extra, unit });
  }

  private resolve<T>(flagKey: string, kind: FlagKind, defaultValue: T): ResolutionDetails<T> {
    const client = this.clientInstance;
    if (client === undefined)
      return { value: defaultValue, reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' as ErrorCode };
    const details = client.getDetails(flagKey, kind, defaultValue as FlagValue);
    const out: ResolutionDetails<T> = { value: details.value as T, reason: details.reason };
    if (details.variant !== undefined) out.variant = details.variant;
    if (details.errorCode !== undefined) out.errorCode = details.errorCode as ErrorCode;
    if (details.errorMessage !== undefined) out.errorMessage = details.errorMessage;
    if (details.configVersion !== undefined) out.flagMetadata = { configVersion: details.configVersion };
    return out;
  }

  private subscribe(client: DimmerBrowserClient): void {
    if (this.unsubscribers.length > 0) return;
    this.unsubscribers.push(
      client.on('ready', () => this.events.emit(ProviderEvents.Ready)),
      client.on('change', ({ flagsChanged }) =>
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
      ),
      client.on('stale', ({ message }) => this.events.emit(ProviderEvents.Stale, { message })),
      client.on('error', ({ message }) => this.events.emit(ProviderEvents.Error, { message })),
    );
  }
}
