/**
 * Start failures in one line a person can act on: the port is taken, the data directory cannot be used, the
 * address cannot be listened on. `npm start` and `dimmer serve` print it and exit 1 instead of a stack trace.
 */
import type { ServerSettings } from './settings.ts';

/** A failure to start, with the sentence to print. */
export class StartError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when the error came from opening or creating something in the data directory. */
function touchesDataDir(error: unknown, dataDir: string): boolean {
  const path = (error as { path?: unknown } | null)?.path;
  return (
    (typeof path === 'string' && path.startsWith(dataDir)) ||
    codeOf(error) === 'SQLITE_CANTOPEN' ||
    codeOf(error) === 'SQLITE_READONLY' ||
    /unable to open database|readonly database/i.test(messageOf(error))
  );
}

/**
 * The one-line explanation of why the server did not start under `settings`, or the error's own message when
 * it is none of the known causes.
 */
export function describeStartError(error: unknown, settings: ServerSettings): StartError {
  const code = codeOf(error);
  const where = `${settings.host}:${settings.port}`;
  const failedPort = (error as { port?: unknown } | null)?.port;
  if (code === 'EADDRINUSE' && settings.opsPort !== undefined && failedPort === settings.opsPort)
    return new StartError(
      `cannot listen on ${settings.host}:${settings.opsPort} for the operations port: it is already in use. Stop that process or choose another port with DIMMER_OPS_PORT.`,
      { cause: error },
    );
  if (code === 'EADDRINUSE')
    return new StartError(
      `cannot listen on ${where}: the port is already in use (another Dimmer?). Stop that process or choose another port with PORT (dimmer serve --port).`,
      { cause: error },
    );
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
    return new StartError(`cannot listen on ${where}: no such address on this machine; check HOST.`, {
      cause: error,
    });
  if (code === 'EACCES' && !touchesDataDir(error, settings.dataDir))
    return new StartError(
      `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose another PORT.`,
      { cause: error },
    );
  if (settings.databaseUrl === undefined && touchesDataDir(error, settings.dataDir))
    return new StartError(
      `cannot use the data directory ${settings.dataDir}: ${messageOf(error)}. Make it writable by this user or set DIMMER_DATA_DIR (dimmer serve --data-dir) to a folder that is.`,
      { cause: error },
    );
  return new StartError(`Dimmer did not start: ${messageOf(error)}`, { cause: error });
}
