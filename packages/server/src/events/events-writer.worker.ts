/**
 * The events writer's thread (see events-writer.ts): its own connection to the SQLite file, running each group
 * of batches through the same ingestion plan as the serving thread would, and pruning. One request at a time,
 * answered with its result or a serializable error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import { createSqliteDriver, DiskFaultError, openSqliteDatabase } from '../storage/sqlite/driver.ts';
import { createSqlEventsStorage } from './events.sql.ts';
import type { WriterAnswer, WriterData, WriterError, WriterRequest } from './events-writer.ts';
import { createEventsStore } from './ingest-plan.ts';

const data = workerData as WriterData;
const port = parentPort;
if (port === null) throw new Error('events-writer.worker.ts runs as a worker thread');

const driver = createSqliteDriver(
  openSqliteDatabase(data.file, data.synchronous),
  undefined,
  undefined,
  data.synchronous,
);
const store = createEventsStore(createSqlEventsStorage(driver));

function describe(error: unknown): WriterError {
  if (error instanceof DiskFaultError)
    return { code: error.code, message: error.message, details: error.details, fault: error.fault };
  if (error instanceof AppError) return { code: error.code, message: error.message, details: error.details };
  return { message: error instanceof Error ? error.message : String(error) };
}

async function handle(request: Exclude<WriterRequest, { type: 'close' }>): Promise<unknown> {
  if (request.type === 'ingest') return store.ingest(request.batches, request.at);
  return store.prune(request.ts);
}

port.on('message', (request: WriterRequest) => {
  if (request.type === 'close') {
    void driver.close().finally(() => port.close());
    return;
  }
  handle(request).then(
    (value) => port.postMessage({ id: request.id, ok: true, value } satisfies WriterAnswer),
    (error: unknown) =>
      port.postMessage({ id: request.id, ok: false, error: describe(error) } satisfies WriterAnswer),
  );
});
port.postMessage({ ready: true });
