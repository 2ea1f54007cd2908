/**
 * Outgoing webhooks for rollout decisions and actions: a POST of the JSON notice to every configured URL, signed
 * with `X-Dimmer-Signature: sha256=<hex HMAC-SHA256 of the body>`, retried with exponential backoff. Deliveries
 * run in a background queue per URL (in order), so the controller and the API never wait for a receiver.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** Tries per delivery before it is dropped. */
export const DEFAULT_WEBHOOK_ATTEMPTS = 5;
/** Delay before the first retry, in milliseconds; it doubles with each further retry. */
export const DEFAULT_WEBHOOK_BACKOFF_MS = 1_000;
/** A receiver that does not answer within this many milliseconds counts as a failure. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
/** Deliveries waiting per URL; beyond it the oldest is dropped (and counted). */
export const MAX_WEBHOOK_QUEUE = 1_000;
export const SIGNATURE_HEADER = 'x-dimmer-signature';

export interface WebhookOptions {
  urls: readonly string[];
  /** HMAC key of the signature header; without it deliveries are unsigned. */
  secret?: string;
  maxAttempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  /** Injected in tests. */
  fetch?: typeof fetch;
  logger?: { warn(object: unknown, message: string): void };
}

/** `sha256=<hex>` of the HMAC-SHA256 of `body` under `secret`: what receivers recompute to check a delivery. */
export function signWebhookBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

interface Delivery {
  id: string;
  type: string;
  body: string;
}

export class WebhookNotifier {
  readonly stats = { delivered: 0, failed: 0, retries: 0, dropped: 0 };
  readonly #options: Required<Omit<WebhookOptions, 'secret' | 'logger'>> &
    Pick<WebhookOptions, 'secret' | 'logger'>;
  readonly #queues = new Map<string, Delivery[]>();
  readonly #workers = new Map<string, Promise<void>>();
  readonly #timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  #closed = false;

  constructor(options: WebhookOptions) {
    this.#options = {
      urls: options.urls,
      maxAttempts: options.maxAttempts ?? DEFAULT_WEBHOOK_ATTEMPTS,
      backoffMs: options.backoffMs ?? DEFAULT_WEBHOOK_BACKOFF_MS,
      timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
      fetch: options.fetch ?? fetch,
      ...(options.secret !== undefined ? { secret: options.secret } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    };
  }

  /** True when at least one URL is configured. */
  get enabled(): boolean {
    return this.#options.urls.length > 0;
  }

  /** Queues `payload` (with a `type`) for every URL and returns at once. */
  send(payload: { type: string }): void {
    if (this.#closed || !this.enabled) return;
    const id = randomUUID();
    const body = JSON.stringify({ id, ...payload });
    for (const url of this.#options.urls) {
      const queue = this.#queues.get(url) ?? [];
      queue.push({ id, type: payload.type, body });
      if (queue.length > MAX_WEBHOOK_QUEUE) {
        queue.shift();
        this.stats.dropped++;
      }
      this.#queues.set(url, queue);
      if (!this.#workers.has(url)) {
        this.#workers.set(url, this.#work(url));
      }
    }
  }

  /** Resolves when every queued delivery has been delivered or given up (tests). */
  async drain(): Promise<void> {
    while (this.#workers.size > 0) await Promise.all([...this.#workers.values()]);
  }

  /** Stops retrying and drops what is queued. */
  close(): void {
    this.#closed = true;
    for (const queue of this.#queues.values()) queue.length = 0;
    for (const t of this.#timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.#timers.clear();
  }

  async #work(url: string): Promise<void> {
    const queue = this.#queues.get(url) as Delivery[];
    try {
      while (queue.length > 0 && !this.#closed) {
        const delivery = queue.shift() as Delivery;
        await this.#deliver(url, delivery);
      }
    } finally {
      // In the same step as the empty-queue check: a send after it starts a new worker instead of queuing
      // behind one that is about to end (its delivery would wait for the next send).
      this.#workers.delete(url);
    }
  }

  async #deliver(url: string, delivery: Delivery): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'dimmer-webhooks/1',
      'x-dimmer-event': delivery.type,
      'x-dimmer-delivery': delivery.id,
    };
    if (this.#options.secret !== undefined)
      headers[SIGNATURE_HEADER] = signWebhookBody(delivery.body, this.#options.secret);
    for (let attempt = 1; attempt <= this.#options.maxAttempts && !this.#closed; attempt++) {
      let problem: string;
      try {
        const response = await this.#options.fetch(url, {
          method: 'POST',
          headers,
          body: delivery.body,
          signal: AbortSignal.timeout(this.#options.timeoutMs),
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.ok) {
          this.stats.delivered++;
          return;
        }
        problem = `HTTP ${response.status}`;
      } catch (error) {
        problem = error instanceof Error ? error.message : String(error);
      }
      if (attempt === this.#options.maxAttempts) break;
      this.stats.retries++;
      this.#options.logger?.warn({ url, attempt, problem }, 'webhook delivery failed; retrying');
      await this.#sleep(this.#options.backoffMs * 2 ** (attempt - 1));
    }
    this.stats.failed++;
    this.#options.logger?.warn({ url, delivery: delivery.id }, 'webhook delivery given up');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#timers.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      entry.timer.unref();
      this.#timers.add(entry);
    });
  }
}
