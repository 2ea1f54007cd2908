/** The webhook outbox over SQL (SQLite and PostgreSQL). */
import type { Row, SqlDriver, SqlExecutor } from '../storage/sql/sql-driver.ts';
import { num, numOrNull } from '../storage/sql/sql-rows.ts';
import type { OutboxDelivery, OutboxInput, WebhookOutboxStore } from './webhooks.store.ts';

const PENDING = 'delivered_at IS NULL AND given_up_at IS NULL';

/** Inserts deliveries inside a writing transaction (the change's own, or one of their own). */
export async function insertOutbox(tx: SqlExecutor, rows: readonly OutboxInput[]): Promise<void> {
  for (const r of rows)
    await tx.run(
      `INSERT INTO webhook_outbox (delivery_id, url, type, body, created_at, next_attempt_at, attempts)
       VALUES (?, ?, ?, ?, ?, ?, 0)`,
      [r.deliveryId, r.url, r.type, r.body, r.createdAt, r.createdAt],
    );
}

function toDelivery(row: Row): OutboxDelivery {
  return {
    id: num(row.id),
    deliveryId: String(row.delivery_id),
    url: String(row.url),
    type: String(row.type),
    body: String(row.body),
    createdAt: num(row.created_at),
    attempts: num(row.attempts),
    lastError: row.last_error === null || row.last_error === undefined ? null : String(row.last_error),
  };
}

export function createSqlWebhookOutbox(driver: SqlDriver): WebhookOutboxStore {
  // PostgreSQL: nodes claiming at the same moment skip each other's rows instead of waiting for them.
  const skipLocked = driver.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
  return {
    async enqueue(rows) {
      if (rows.length === 0) return;
      await driver.transaction((tx) => insertOutbox(tx, rows));
    },
    async claim(now, claimMs, limit) {
      const rows = await driver.transaction((tx) =>
        tx.all(
          `UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?
           WHERE id IN (SELECT id FROM webhook_outbox WHERE ${PENDING} AND next_attempt_at <= ?
                        ORDER BY next_attempt_at, id LIMIT ?${skipLocked})
           RETURNING id, delivery_id, url, type, body, created_at, attempts, last_error`,
          [now + claimMs, now, limit],
        ),
      );
      return rows.map(toDelivery).sort((a, b) => a.id - b.id);
    },
    async delivered(id, now) {
      await driver.run('UPDATE webhook_outbox SET delivered_at = ?, last_error = NULL WHERE id = ?', [
        now,
        id,
      ]);
    },
    async failed(id, error, retryAt, now) {
      await driver.run(
        `UPDATE webhook_outbox SET last_error = ?, next_attempt_at = ?, given_up_at = ?
         WHERE id = ? AND delivered_at IS NULL`,
        [error, retryAt ?? now, retryAt === null ? now : null, id],
      );
    },
    async stats() {
      const [row] = await driver.all(
        `SELECT (SELECT COUNT(*) FROM webhook_outbox WHERE ${PENDING}) AS pending,
                (SELECT MIN(created_at) FROM webhook_outbox WHERE ${PENDING}) AS oldest,
                (SELECT COUNT(*) FROM webhook_outbox WHERE given_up_at IS NOT NULL) AS given_up`,
      );
      return {
        pending: num(row?.pending),
        oldestCreatedAt: numOrNull(row?.oldest),
        givenUp: num(row?.given_up),
      };
    },
    async prune(before) {
      return driver.run('DELETE FROM webhook_outbox WHERE delivered_at < ? OR given_up_at < ?', [
        before,
        before,
      ]);
    },
  };
}
