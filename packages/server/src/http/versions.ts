/**
 * Document versions on the wire: `GET` of one document sends `ETag: "<version>"`; a write names the version it
 * was made from with `If-Match: "<version>"` or a `version` field in its body (both may be given if they agree).
 * A write that names none is not checked (scripts keep working); the dashboard and CLI always name one.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

const ENTITY_TAG = /^(?:W\/)?"?([1-9][0-9]{0,14})"?$/;

/** The version an `If-Match` header names; undefined when absent or `*`. BAD_REQUEST when it is no version. */
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '' || value.trim() === '*') return undefined;
  const match = ENTITY_TAG.exec(value.trim());
  if (match === null)
    throw new AppError('BAD_REQUEST', `If-Match: expected a document version such as "3", got ${value}`, {
      issues: [{ path: 'headers.if-match', message: 'expected "<version>" as returned in the ETag' }],
    });
  return Number(match[1]);
}

/**
 * The version a write expects and its body without the `version` field. BAD_REQUEST when `If-Match` and the
 * body's `version` disagree.
 */
export function writeVersion<B>(request: FastifyRequest): { version?: number; body: B } {
  const header = parseIfMatch(request.headers['if-match']);
  const raw = request.body;
  let body = raw as B;
  let field: number | undefined;
  if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'version' in raw) {
    const { version, ...rest } = raw as { version?: unknown };
    if (typeof version === 'number') field = version;
    body = rest as B;
  }
  if (header !== undefined && field !== undefined && header !== field)
    throw new AppError(
      'BAD_REQUEST',
      `If-Match names version ${header} but the body names version ${field}; send one version`,
      { issues: [{ path: 'body.version', message: `differs from If-Match (${header})` }] },
    );
  const version = header ?? field;
  return version === undefined ? { body } : { version, body };
}

/** Sets the document's ETag (its version) on a reply. */
export function tagVersion<T extends { version: number }>(reply: FastifyReply, document: T): T {
  reply.header('etag', `"${document.version}"`);
  return document;
}

/** `writeVersion` shaped for a service call: the body, and `{ version }` options (empty when none was named). */
export function versioned<B>(request: FastifyRequest): { body: B; options: { version?: number } } {
  const { version, body } = writeVersion<B>(request);
  return { body, options: version === undefined ? {} : { version } };
}
