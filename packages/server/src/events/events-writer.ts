/**
 * Event ingestion on a thread of its own, for a SQLite database file. better-sqlite3's calls are synchronous, so an
 * ingestion transaction written by the serving thread holds its event loop for the whole transaction (several
 * milliseconds, back to back under a flood): probes, evaluations and admin requests wait behind it, and one core
 * parses requests while it also writes. Here a worker thread with its own connection to the same file runs each
 * group of batches through the same ingestion plan (ingest-plan.ts); the serving thread only parses, validates and
 * answers.
 *
 * The serving connection and the writer never wait for each other's lock: each group is written `beside` the
 * serving connection (its writes take turns with the groups; its reads go on), so neither ever sees SQLITE_BUSY
 * from the other and the serving thread never blocks in SQLite's busy wait. A disk fault reported by the worker marks the storage not
 * writable as the serving connection's own would (`/readyz`).
 *
 * The worker starts with the store. If it cannot start or stops, ingestion continues on the serving thread
 * (`fallback`, the same plan over the serving connection) and `onError` hears why; a group the worker was writing
 * when it stopped is written again there (a batch that did commit is found by its id and answered as stored).
 * An in-memory database cannot be opened by a second connection: it keeps ingesting on the serving thread.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '@dimmer/api';
import { AppError } from '../errors.ts';
import { DiskFaultError, type SqliteDriver, type SqliteSynchronous } from '../storage/sqlite/driver.ts';
import type { EventsStore, IngestBatch } from './events.store.ts';

/** What the worker is started with. */
export interface WriterData {
  file: string;
  synchronous: SqliteSynchronous;
}

/** A request to the worker; `close` ends it once its connection is closed. */
export type WriterRequest =
  | { type: 'ingest'; id: number; batches: readonly IngestBatch[]; at: number }
  | { type: 'prune'; id: number; ts: number }
  | { type: 'close' };

/** An error as it crosses threads: an AppError's code and details, a disk fault's reason. */
export interface WriterError {
  code?: ErrorCode;
  message: string;
  details?: unknown;
  fault?: string;
}

/** The worker's answer to one request, or its first message once it runs. */
export type WriterAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: WriterError }
  | { ready: true };

/** Longest wait for the writer thread to start before the server goes on without it, in milliseconds. */
const WRITER_START_WAIT_MS = 10_000;

/** The worker stopped (or never started) before answering: the request goes to the serving thread. */
class WriterStopped extends Error {}

function revive(error: WriterError): Error {
  if (error.fault !== undefined) return new DiskFaultError(error.fault);
  if (error.code !== undefined) return new AppError(error.code, error.message, error.details);
  return new Error(error.message);
}

/**
 * Loads a TypeScript worker module in a source checkout: Node 20 applies no loader hooks to a worker's entry, so
 * an evaluated script registers tsx's hooks in the worker first, then imports the module.
 */
const TYPESCRIPT_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((api) => { api.register(); return import(workerData.module); });
`;

/** How to start a worker: a module file, or an evaluated script with what it needs in `workerData`. */
export interface WorkerEntry {
  filename: string | URL;
  eval?: boolean;
  data?: Record<string, string>;
}

/**
 * The worker's module: the compiled `events-writer.js` beside the bundle, or in a source checkout this module's
 * TypeScript twin, loaded through tsx (TYPESCRIPT_BOOTSTRAP).
 */
function workerEntry(): WorkerEntry {
  if (!import.meta.url.endsWith('.ts')) return { filename: new URL('./events-writer.js', import.meta.url) };
  // The ESM build of tsx's API (resolving from CommonJS would pick its CommonJS build).
  const manifest = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(manifest, 'utf8')) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const tsxApi = pathToFileURL(join(dirname(manifest), exports['./esm/api']?.import.default ?? '')).href;
  const module = new URL('./events-writer.worker.ts', import.meta.url).href;
  return { filename: TYPESCRIPT_BOOTSTRAP, eval: true, data: { tsxApi, module } };
}

/** The events store of a SQLite file whose writes run on a worker thread; `close` stops the worker. */
export interface ThreadedEventsStore extends EventsStore {
  /** True while writes go to the worker (false once it failed and the serving thread writes). */
  readonly offThread: boolean;
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createThreadedEventsStore(options: {
  /** The serving connection to a database file (an in-memory database cannot be opened by a second one). */
  driver: SqliteDriver;
  /** The same plan over the serving connection: used when the worker cannot run. */
  fallback: EventsStore;
  onError?: (error: Error) => void;
  /** The worker's module (tests start one that fails); default: the events writer. */
  entry?: WorkerEntry;
}): ThreadedEventsStore {
  const { driver, fallback } = options;
  const file = driver.file;
  if (file === null)
    throw new Error('the events writer thread needs a database file, not an in-memory database');
  const data: WriterData = { file, synchronous: driver.synchronous };
  const onError = options.onError ?? (() => undefined);
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let markRunning: () => void = () => undefined;
  const running = new Promise<void>((resolve) => {
    markRunning = resolve;
  });
  let failed = false;
  let closed = false;
  let nextId = 1;

  function stop(error: Error): void {
    markRunning();
    if (failed) return;
    failed = true;
    if (!closed) onError(error);
    for (const p of pending.values()) p.reject(new WriterStopped(error.message));
    pending.clear();
  }

  function spawn(): Worker {
    const entry = options.entry ?? workerEntry();
    const started = new Worker(entry.filename, {
      eval: entry.eval === true,
      workerData: { ...entry.data, ...data },
    });
    started.unref();
    started.on('message', (answer: WriterAnswer) => {
      if ('ready' in answer) {
        markRunning();
        return;
      }
      const p = pending.get(answer.id);
      if (p === undefined) return;
      pending.delete(answer.id);
      if (pending.size === 0) started.unref();
      if (answer.ok) p.resolve(answer.value);
      else p.reject(revive(answer.error));
    });
    started.on('error', (error) => stop(new Error(`the events writer thread failed: ${error.message}`)));
    started.on('exit', (code) => stop(new Error(`the events writer thread stopped (exit code ${code})`)));
    return started;
  }

  /** Sends one request and waits for its answer; WriterStopped when the worker is gone. */
  function call<T>(request: Exclude<WriterRequest, { type: 'close' }>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (failed || closed) {
        reject(new WriterStopped('the events writer thread is not running'));
        return;
      }
      // Referenced while a request waits, so the process stays alive for its answer.
      worker.ref();
      pending.set(request.id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage(request);
    });
  }

  /** Runs the request on the worker beside the serving connection, or `onServingThread` when it cannot. */
  async function write<T>(
    request: Exclude<WriterRequest, { type: 'close' }>,
    onServingThread: () => Promise<T>,
  ): Promise<T> {
    if (!failed && !closed) {
      try {
        return await driver.beside(() => call<T>(request));
      } catch (error) {
        if (!(error instanceof WriterStopped)) throw error;
      }
    }
    return onServingThread();
  }

  // Started at once, so that its start-up (loading the ingestion code) is not paid by the first batch.
  const worker = spawn();

  return {
    get offThread() {
      return !failed && !closed;
    },
    ingest: (batches, at) =>
      write({ type: 'ingest', id: nextId++, batches, at }, () => fallback.ingest(batches, at)),
    prune: (ts) => write({ type: 'prune', id: nextId++, ts }, () => fallback.prune(ts)),
    countTracks: () => fallback.countTracks(),
    // A writer still starting after WRITER_START_WAIT_MS does not hold up the server: its first batches wait.
    ready: () =>
      Promise.race([
        running,
        new Promise<void>((resolve) => setTimeout(resolve, WRITER_START_WAIT_MS).unref()),
      ]),
    async close() {
      const stopping = !closed && !failed;
      closed = true;
      if (!stopping) return;
      // Every write ran beside the serving connection: once its queue is through, no request is pending.
      await driver.beside(async () => undefined);
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      worker.ref();
      worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await exited;
    },
  };
}
