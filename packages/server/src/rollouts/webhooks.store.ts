/**
 * The webhook outbox: one row per notice and receiver URL, written in the same transaction as the change the
 * notice reports, and delivered by a loop on every node until the receiver accepts it or the tries run out.
 */

/** A delivery as written with its change. */
export interface OutboxInput {
  /** The notice's id: the same for every URL and every try (the receiver's deduplication key). */
  deliveryId: string;
  url: string;
  /** The notice's type (`rollout.decision`, `rollout.action`, `rollout.alarm`). */
  type: string;
  /** The JSON body, exactly as it is signed and sent. */
  body: string;
  /** Epoch milliseconds. */
  createdAt: number;
}

/** A delivery claimed by a node's loop. */
export interface OutboxDelivery extends OutboxInput {
  id: number;
  /** Tries so far, this one included. */
  attempts: number;
  lastError: string | null;
}

/** What the outbox gauges read. */
export interface OutboxStats {
  /** Deliveries neither delivered nor given up. */
  pending: number;
  /** Epoch milliseconds of the oldest pending delivery, or null when none is pending. */
  oldestCreatedAt: number | null;
  /** Deliveries given up after their last try (kept until pruned). */
  givenUp: number;
}

export interface WebhookOutboxStore {
  /** Writes deliveries in their own transaction (notices that report no stored change, such as alarms). */
  enqueue(rows: readonly OutboxInput[]): Promise<void>;
  /**
   * Claims up to `limit` due deliveries, oldest first: each gets one more try and is not due again before
   * `now + claimMs` (so another node retries it if this one dies mid-delivery). Rows another node is claiming
   * at the same moment are skipped.
   */
  claim(now: number, claimMs: number, limit: number): Promise<OutboxDelivery[]>;
  /** Marks a delivery delivered. */
  delivered(id: number, now: number): Promise<void>;
  /** Records a failed try: due again at `retryAt`, or given up when it is null (unless delivered meanwhile). */
  failed(id: number, error: string, retryAt: number | null, now: number): Promise<void>;
  stats(): Promise<OutboxStats>;
  /** Deletes deliveries delivered or given up before `before`; resolves to how many. */
  prune(before: number): Promise<number>;
}
