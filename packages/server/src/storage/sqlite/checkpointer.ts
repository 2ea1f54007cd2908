/**
 * Checkpoints of the SQLite write-ahead log, mostly off the serving thread. By default SQLite copies the WAL back
 * into the database file (and, with `synchronous=NORMAL`, fsyncs both) inside the COMMIT that grows the WAL past
 * 1,000 pages: on the thread serving requests, every few ingestion transactions, for several milliseconds, and
 * costing a large share of the ingestion work.
 *
 * Here, after writes, a worker thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)`, which copies
 * the WAL without waiting for, or blocking, the writer. A WAL only starts over from its beginning when a write
 * begins with every frame copied, which a worker racing a busy writer rarely achieves; so once the worker reports
 * a WAL of RESTART_FRAMES or more, the serving connection runs a PASSIVE checkpoint of its own between two
 * transactions: it copies only the frames written since the worker's (a transaction or two) and its next write
 * starts the WAL over. The serving connection's own automatic checkpoint stays as a backstop at
 * BACKSTOP_AUTOCHECKPOINT_PAGES, for writes that never let the event loop turn (nothing else runs then).
 *
 * The worker starts on the first write, so a database that is only read never starts a thread. When the worker
 * cannot run (it failed to start, or stopped), the serving connection checkpoints itself again as SQLite does
 * by default.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Pages in the WAL past which SQLite's own checkpoint runs (its default), restored when the worker fails. */
export const SQLITE_AUTOCHECKPOINT_PAGES = 1000;
/**
 * The serving connection's automatic checkpoint while the worker runs, in pages (40 MiB of 4 KiB pages): never
 * reached while the event loop turns, it bounds the WAL of writes made in one long synchronous stretch.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000;
/** WAL frames (pages) after which the serving connection finishes a checkpoint so that the WAL starts over. */
export const RESTART_FRAMES = 1000;
/**
 * Longest time between a write and the checkpoint that copies it, in milliseconds: a flood of writes costs one
 * worker checkpoint per interval, and the serving connection's share stays a transaction or two of frames.
 */
export const CHECKPOINT_INTERVAL_MS = 20;

/** What the worker answers after each checkpoint: the WAL's frames, or why the checkpoint failed. */
type CheckpointAnswer = { ok: true; frames: number } | { ok: false; message: string };

/** The worker's code (CommonJS, evaluated): one connection, a PASSIVE checkpoint per message, `close` to end. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.filename, { timeout: workerData.busyTimeoutMs });
db.pragma('synchronous = ' + workerData.synchronous);
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ ok: true, frames: result.log });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message) });
  }
});
`;

/** The checkpoints of one database file. */
export interface Checkpointer {
  /** Call after a write committed: a checkpoint follows within CHECKPOINT_INTERVAL_MS. */
  wrote(): void;
  /** Stops the worker (its connection closed); call before closing the serving connection. */
  close(): Promise<void>;
}

/**
 * Takes over the checkpoints of `db` (a WAL database file opened by the serving thread) and runs them on a worker
 * thread after writes. `restart` runs a function on the serving connection between two transactions; it is
 * called with the serving connection's share of a checkpoint. `onError` hears a failed checkpoint or a worker
 * that stopped (then `db` checkpoints itself again).
 */
export function startCheckpointer(
  db: Database.Database,
  options: {
    synchronous: string;
    busyTimeoutMs: number;
    restart: (checkpoint: () => void) => void;
    onError?: (error: Error) => void;
  },
): Checkpointer {
  db.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`);
  const onError = options.onError ?? (() => undefined);
  let worker: Worker | undefined;
  let stopped = false;
  let running = false;
  let dirty = false;
  let timer: NodeJS.Timeout | undefined;

  function fallBack(error: Error): void {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    worker = undefined;
    if (db.open) db.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
    onError(error);
  }

  function finishOnServingConnection(): void {
    options.restart(() => {
      if (db.open) db.pragma('wal_checkpoint(PASSIVE)');
    });
  }

  function spawn(): Worker {
    const started = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        module: createRequire(import.meta.url).resolve('better-sqlite3'),
        filename: db.name,
        synchronous: options.synchronous,
        busyTimeoutMs: options.busyTimeoutMs,
      },
    });
    // An idle worker never keeps the process alive: SQLite checkpoints the rest when the database closes.
    started.unref();
    started.on('message', (answer: CheckpointAnswer) => {
      running = false;
      if (!answer.ok) onError(new Error(`WAL checkpoint failed: ${answer.message}`));
      else if (answer.frames >= RESTART_FRAMES) finishOnServingConnection();
      if (dirty) schedule();
    });
    started.on('error', fallBack);
    started.on('exit', (code) => {
      if (worker === started) fallBack(new Error(`the WAL checkpoint worker stopped (exit code ${code})`));
    });
    return started;
  }

  function run(): void {
    timer = undefined;
    if (stopped || !dirty || running) return;
    dirty = false;
    running = true;
    worker ??= spawn();
    worker.postMessage('checkpoint');
  }

  function schedule(): void {
    if (timer !== undefined || stopped) return;
    timer = setTimeout(run, CHECKPOINT_INTERVAL_MS);
    timer.unref();
  }

  return {
    wrote() {
      dirty = true;
      if (!running) schedule();
    },
    async close() {
      clearTimeout(timer);
      stopped = true;
      const stopping = worker;
      worker = undefined;
      if (stopping === undefined) return;
      const exited = new Promise<void>((resolve) => stopping.once('exit', () => resolve()));
      // Referenced again so that the process waits for the worker's connection to close.
      stopping.ref();
      stopping.postMessage('close');
      await exited;
    },
  };
}
