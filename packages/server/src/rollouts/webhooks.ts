/**
 * Outgoing webhooks for rollout decisions, actions and alarms, from a transactional outbox: a notice becomes one
 * row per configured URL in the same transaction as the change it reports, and a delivery loop on every node
 * claims due rows and POSTs them (JSON, signed with `X-Dimmer-Signature: sha256=<hex HMAC-SHA256 of the body>`).
 * A delivery is tried until the receiver answers 2xx or the tries run out, with exponential backoff, always with
 * the same `X-Dimmer-Delivery` id; a row claimed by a node that dies is claimed again by another once the claim
 * expires. So every notice is delivered at least once, even when the node that made the change does not live to
 * send it, and neither the controller nor the API ever waits for a receiver.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { OutboxDelivery, OutboxInput, WebhookOutboxStore } from './webhooks.store.ts';

/** Tries per delivery before it is given up. */
export const DEFAULT_WEBHOOK_ATTEMPTS = 5;
/** Delay before the first retry, in milliseconds; it doubles with each further retry. */
export const DEFAULT_WEBHOOK_BACKOFF_MS = 1_000;
/** A receiver that does not answer within this many milliseconds counts as a failure. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** How often each node looks for due deliveries (besides right after its own changes), in milliseconds. */
export const DEFAULT_WEBHOOK_POLL_MS = 1_000;
/** Deliveries claimed per pass. */
export const WEBHOOK_CLAIM_BATCH = 20;
/** A claim lasts the receiver timeout plus this margin before another node may retry the delivery. */
const CLAIM_MARGIN_MS = 2_000;
/** Delivered and given-up rows are kept this long (for inspection), then pruned. */
export const WEBHOOK_RETENTION_MS = 7 * 86_400_000;
/** How often the retention prune runs, in milliseconds. */
const PRUNE_EVERY_MS = 3_600_000;
export const SIGNATURE_HEADER = 'x-dimmer-signature';
export const DELIVERY_HEADER = 'x-dimmer-delivery';

export interface WebhookOptions {
  urls: readonly string[];
  /** HMAC key of the signature header; without it deliveries are unsigned. */
  secret?: string;
  maxAttempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  /** Interval of the delivery loop's look for due rows, in milliseconds (0: only after local changes). */
  pollMs?: number;
  /** Injected in tests. */
  fetch?: typeof fetch;
  logger?: { warn(object: unknown, message: string): void };
  /** Counts each try's outcome (the deliveries counter). */
  onOutcome?: (outcome: 'delivered' | 'retry' | 'given_up') => void;
}

/** `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`: what receivers recompute to check a delivery. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

type Settings = Required<Omit<WebhookOptions, 'secret' | 'logger' | 'onOutcome'>> &
  Pick<WebhookOptions, 'secret' | 'logger' | 'onOutcome'>;

export class WebhookNotifier {
  /** Outcomes of the tries made by this node. */
  readonly stats = { delivered: 0, failed: 0, retries: 0 };
  readonly #options: Settings;
  readonly #outbox: WebhookOutboxStore;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<number> | undefined;
  #again = false;
  #closed = false;
  /** Aborts the tries in flight on close (their rows are retried once their claims expire). */
  readonly #closing = new AbortController();
  #prunedAt = 0;

  constructor(outbox: WebhookOutboxStore, options: WebhookOptions, now: () => number = Date.now) {
    this.#outbox = outbox;
    this.#now = now;
    this.#options = {
      urls: options.urls,
      maxAttempts: options.maxAttempts ?? DEFAULT_WEBHOOK_ATTEMPTS,
      backoffMs: options.backoffMs ?? DEFAULT_WEBHOOK_BACKOFF_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      pollMs: options.pollMs ?? DEFAULT_WEBHOOK_POLL_MS,
      fetch: options.fetch ?? fetch,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
      ...(options.onOutcome !== undefined ? { onOutcome: options.onOutcome } : {}),
    };
  }

  /** True when at least one URL is configured. */
  get enabled(): boolean {
    return this.#options.urls.length > 0;
  }

  /** The outbox rows of a notice: one per URL, all with the same new delivery id (none without URLs). */
  rows(payload: { type: string }): OutboxInput[] {
    if (!this.enabled) return [];
    const deliveryId = randomUUID();
    const body = JSON.stringify({ id: deliveryId, ...payload });
    const createdAt = this.#now();
    return this.#options.urls.map((url) => ({ deliveryId, url, type: payload.type, body, createdAt }));
  }

  /**
   * Writes a notice that reports no stored change (an alarm) to the outbox on its own, then delivers it. Never
   * rejects: a failed write is logged (the alarm is still shown by the API and the metric).
   */
  send(payload: { type: string }): void {
    const rows = this.rows(payload);
    if (rows.length === 0) return;
    this.#outbox.enqueue(rows).then(
      () => this.wake(),
      (error: unknown) =>
        this.#options.logger?.warn({ err: error, type: payload.type }, 'webhook not written'),
    );
  }

  /** Delivers what is due now (called after this node committed a change with deliveries). */
  wake(): void {
    if (this.#closed || !this.enabled) return;
    this.#deliverDue().catch((error: unknown) =>
      this.#options.logger?.warn({ err: error }, 'webhook delivery pass failed'),
    );
  }

  /** Starts the delivery loop: every `pollMs`, claim and deliver due rows (including other nodes' rows). */
  start(): void {
    if (this.#timer !== undefined || !this.enabled || this.#options.pollMs <= 0) return;
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Delivers until nothing is pending or every pending row waits for a later retry beyond `limitMs` (tests). */
  async drain(limitMs = 30_000): Promise<void> {
    const until = Date.now() + limitMs;
    while (Date.now() < until) {
      await this.#deliverDue();
      if ((await this.#outbox.stats()).pending === 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.#options.backoffMs, 20)));
    }
  }

  /** Stops the loop, aborts the tries in flight and waits for the pass; undelivered rows stay for any node. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass?.catch(() => undefined);
  }

  /** One pass at a time; a wake during a pass runs one more pass after it. */
  #deliverDue(): Promise<number> {
    if (this.#pass !== undefined) {
      this.#again = true;
      return this.#pass;
    }
    this.#pass = (async () => {
      let total = 0;
      do {
        this.#again = false;
        total += await this.#deliverBatch();
      } while (this.#again && !this.#closed);
      return total;
    })().finally(() => {
      this.#pass = undefined;
    });
    return this.#pass;
  }

  async #deliverBatch(): Promise<number> {
    if (this.#closed) return 0;
    const now = this.#now();
    if (now - this.#prunedAt >= PRUNE_EVERY_MS) {
      this.#prunedAt = now;
      await this.#outbox.prune(now - WEBHOOK_RETENTION_MS);
    }
    const claimed = await this.#outbox.claim(
      now,
      this.#options.timeoutMs + CLAIM_MARGIN_MS,
      WEBHOOK_CLAIM_BATCH,
    );
    await Promise.all(claimed.map((delivery) => this.#deliver(delivery)));
    // A full batch: more may be due at once.
    if (claimed.length === WEBHOOK_CLAIM_BATCH) this.#again = true;
    return claimed.length;
  }

  async #deliver(delivery: OutboxDelivery): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'dimmer-webhooks/1',
      'x-dimmer-event': delivery.type,
      [DELIVERY_HEADER]: delivery.deliveryId,
    };
    if (this.#options.secret !== undefined)
      headers[SIGNATURE_HEADER] = signWebhookBody(delivery.body, this.#options.secret);
    let problem: string;
    try {
      const response = await this.#options.fetch(delivery.url, {
        method: 'POST',
        headers,
        body: delivery.body,
        signal: AbortSignal.any([AbortSignal.timeout(this.#options.timeoutMs), this.#closing.signal]),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) {
        this.stats.delivered++;
        this.#options.onOutcome?.('delivered');
        await this.#outbox.delivered(delivery.id, this.#now());
        return;
      }
      problem = `HTTP ${response.status}`;
    } catch (error) {
      // Closing: the try is not counted against the receiver; the claim expires and a node retries it.
      if (this.#closed) return;
      problem = error instanceof Error ? error.message : String(error);
    }
    const now = this.#now();
    const last = delivery.attempts >= this.#options.maxAttempts;
    if (last) this.stats.failed++;
    else this.stats.retries++;
    this.#options.onOutcome?.(last ? 'given_up' : 'retry');
    const log = { url: delivery.url, delivery: delivery.deliveryId, attempt: delivery.attempts, problem };
    this.#options.logger?.warn(log, last ? 'webhook delivery given up' : 'webhook delivery failed; retrying');
    await this.#outbox.failed(
      delivery.id,
      problem,
      last ? null : now + this.#options.backoffMs * 2 ** (delivery.attempts - 1),
      now,
    );
  }
}
