/**
 * The server's one error type, its closed set of codes, and the one table from code to HTTP status.
 * Every error reply has the shape `{ error: { code, message, details } }`; the code set is the contract's.
 */
import type { ErrorBody, ErrorCode } from '@dimmer/api';

export type { ErrorBody, ErrorCode };

/** Code → HTTP status; `satisfies` makes the compiler check that every code has a status. */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<ErrorCode, number>;

/** An error a route can throw; the error handler turns it into the standard error body. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details ?? null;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** Builds the standard error body for a code. */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, details: details ?? null } };
}

/**
 * Throws CONFLICT when a write made from version `expected` finds the document at `current`; `details` carry the
 * current version so a client can reload. No check when the write names no version.
 */
export function checkVersion(what: string, expected: number | undefined, current: number): void {
  if (expected === undefined || expected === current) return;
  throw new AppError(
    'CONFLICT',
    `${what} changed since version ${expected} (it is at version ${current}); reload it and apply your change again`,
    { currentVersion: current, expectedVersion: expected },
  );
}
