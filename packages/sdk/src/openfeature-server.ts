/**
 * The OpenFeature server provider backed by a Dimmer client (local evaluation): every value type,
 * reasons and error codes, provider events (READY, CONFIGURATION_CHANGED, STALE, ERROR) and `track`.
 * Import from `@dimmer/sdk/openfeature/server`; needs `@openfeature/server-sdk` as a peer.
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
} from '@openfeature/server-sdk';
import type { DimmerClient } from './client.ts';
import type { EvaluationDetails } from './types.ts';

export interface DimmerServerProviderOptions {
  /** Close the client (flushing its events) when OpenFeature closes the provider; default true. */
  closeClient?: boolean;
}

/** Converts SDK evaluation details into OpenFeature resolution details. */
export function toResolutionDetails<T>(details: EvaluationDetails<FlagValue>): ResolutionDetails<T> {
  const out: ResolutionDetails<T> = { value: details.value as T, reason: details.reason };
  if (details.variant !== undefined) out.variant = details.variant;
  if (details.errorCode !== undefined) out.errorCode = details.errorCode as ErrorCode;
  if (details.errorMessage !== undefined) out.errorMessage = details.errorMessage;
  if (details.configVersion !== undefined) {
    out.flagMetadata =
      details.ruleId === undefined
        ? { configVersion: details.configVersion }
        : { configVersion: details.configVersion, ruleId: details.ruleId };
  }
  return out;
}

/** An OpenFeature server-side provider that evaluates locally through a `DimmerClient`. */
export class DimmerServerProvider implements Provider {
  readonly metadata = { name: 'dimmer' } as const;
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  private unsubscribers: (() => void)[] = [];
  private readonly closeClient: boolean;

  constructor(
    readonly client: DimmerClient,
    options: DimmerServerProviderOptions = {},
  ) {
    this.closeClient = options.closeClient ?? true;
  }

  /** Waits for the client's first answer from the server; rejects (provider ERROR) only when nothing can be served. */
  async initialize(): Promise<void> {
    const status = await this.client.waitForFirstAttempt();
    this.subscribe();
    if (status.state === 'ERROR')
      throw new GeneralError(status.lastError ?? 'no flag configuration available');
    if (status.state === 'STALE') {
      // OpenFeature marks the provider READY when initialize resolves; STALE must follow that.
      setTimeout(() => {
        if (this.client.status().state === 'STALE')
          this.events.emit(ProviderEvents.Stale, { message: status.lastError ?? 'stale' });
      }, 0);
    }
  }

  async onClose(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.unsubscribers = [];
    if (this.closeClient) await this.client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext) {
    return Promise.resolve(this.resolve<boolean>(flagKey, 'boolean', defaultValue, context));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext) {
    return Promise.resolve(this.resolve<string>(flagKey, 'string', defaultValue, context));
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext) {
    return Promise.resolve(this.resolve<number>(flagKey, 'number', defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext) {
    return Promise.resolve(this.resolve<T>(flagKey, 'object', defaultValue, context));
  }

  /** Maps `track(name, context, { value })` to a Dimmer metric event for the context's `targetingKey`. */
  track(trackingEventName: string, context: EvaluationContext, details: TrackingEventDetails): void {
    const unit = context.targetingKey;
    if (unit === undefined) return;
    this.client.track(
      trackingEventName,
      unit,
      details.value === undefined ? undefined : { value: details.value },
    );
  }

  private resolve<T>(flagKey: string, kind: FlagKind, defaultValue: unknown, context: EvaluationContext) {
    const details = this.client.getDetails(
      flagKey,
      kind,
      defaultValue as FlagValue,
      context as DimmerContext,
    );
    return toResolutionDetails<T>(details);
  }

  private subscribe(): void {
    if (this.unsubscribers.length > 0) return;
    this.unsubscribers.push(
      this.client.on('ready', () => this.events.emit(ProviderEvents.Ready)),
      this.client.on('change', ({ flagsChanged }) =>
        this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged }),
      ),
      this.client.on('stale', ({ message }) => this.events.emit(ProviderEvents.Stale, { message })),
      this.client.on('error', ({ message }) => this.events.emit(ProviderEvents.Error, { message })),
    );
  }
}
