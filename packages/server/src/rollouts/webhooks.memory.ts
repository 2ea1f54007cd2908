/** The webhook outbox in memory (unit tests; one process). */
import { copy, type MemoryDatabase } from '../storage/memory/memory-database.ts';
import type { OutboxDelivery, OutboxInput, WebhookOutboxStore } from './webhooks.store.ts';

/** The in-memory table of deliveries, by id. */
export const OUTBOX_TABLE = 'webhook_outbox';

interface MemoryDelivery extends OutboxDelivery {
  nextAttemptAt: number;
  deliveredAt: number | null;
  givenUpAt: number | null;
}

const pending = (d: MemoryDelivery) => d.deliveredAt === null && d.givenUpAt === null;

/** Appends deliveries (inside a memory write: no await between its steps). */
export function appendOutbox(db: MemoryDatabase, rows: readonly OutboxInput[]): void {
  const table = db.table<MemoryDelivery>(OUTBOX_TABLE);
  let id = 0;
  for (const d of table.values()) id = Math.max(id, d.id);
  for (const r of rows) {
    id += 1;
    table.set(String(id), {
      ...copy(r),
      id,
      attempts: 0,
      lastError: null,
      nextAttemptAt: r.createdAt,
      deliveredAt: null,
      givenUpAt: null,
    });
  }
}

export function createMemoryWebhookOutbox(db: MemoryDatabase): WebhookOutboxStore {
  const table = db.table<MemoryDelivery>(OUTBOX_TABLE);
  const find = (id: number) => table.get(String(id));
  return {
    async enqueue(rows) {
      db.checkOpen();
      appendOutbox(db, rows);
    },
    async claim(now, claimMs, limit) {
      db.checkOpen();
      const due = [...table.values()]
        .filter((d) => pending(d) && d.nextAttemptAt <= now)
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id)
        .slice(0, limit);
      for (const d of due) {
        d.attempts += 1;
        d.nextAttemptAt = now + claimMs;
      }
      return due
        .sort((a, b) => a.id - b.id)
        .map((d) => ({
          id: d.id,
          deliveryId: d.deliveryId,
          url: d.url,
          type: d.type,
          body: d.body,
          createdAt: d.createdAt,
          attempts: d.attempts,
          lastError: d.lastError,
        }));
    },
    async delivered(id, now) {
      const d = find(id);
      if (d === undefined) return;
      d.deliveredAt = now;
      d.lastError = null;
    },
    async failed(id, error, retryAt, now) {
      const d = find(id);
      if (d === undefined || d.deliveredAt !== null) return;
      d.lastError = error;
      d.nextAttemptAt = retryAt ?? now;
      if (retryAt === null) d.givenUpAt = now;
    },
    async stats() {
      const open = [...table.values()].filter(pending);
      return {
        pending: open.length,
        oldestCreatedAt: open.length === 0 ? null : Math.min(...open.map((d) => d.createdAt)),
        givenUp: [...table.values()].filter((d) => d.givenUpAt !== null).length,
      };
    },
    async prune(before) {
      let removed = 0;
      for (const [key, d] of table)
        if (
          (d.deliveredAt ?? Number.POSITIVE_INFINITY) < before ||
          (d.givenUpAt ?? Number.POSITIVE_INFINITY) < before
        ) {
          table.delete(key);
          removed++;
        }
      return removed;
    },
  };
}
