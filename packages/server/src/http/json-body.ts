/**
 * The JSON body parser of every route: Fastify's own (with prototype-poisoning protection), behind a nesting
 * check. A body nested deeper than MAX_JSON_DEPTH is refused with 400 naming the limit before it is parsed,
 * so no deeply nested value ever reaches code that walks it.
 */
import type { FastifyInstance } from 'fastify';

/** Deepest nesting of objects and arrays accepted in a request body (a context, a batch, an admin document). */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 123; // {
const OPEN_ARRAY = 91; // [
const CLOSE_OBJECT = 125; // }
const CLOSE_ARRAY = 93; // ]
const QUOTE = 34; // "
const BACKSLASH = 92; // \

/** A body nested too deeply: a syntax-level refusal, answered 400 by every error renderer. */
export class JsonTooDeepError extends SyntaxError {
  constructor(limit: number) {
    super(`request body is nested deeper than ${limit} levels of objects and arrays (the most accepted)`);
    this.name = 'JsonTooDeepError';
  }
}

/** The deepest nesting of objects and arrays in JSON `text`, counting only outside strings; stops past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      depth++;
      if (depth > limit) return true;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  return false;
}

/** A request body parsed as JSON, or the error every route answers for it (400). */
export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; error: Error };

/** Parses a JSON request body: the depth check, then Fastify's parser (prototype-poisoning protection). */
export type JsonBodyParser = (text: string) => JsonBodyResult;

/** The answer of the last synchronous parse (one module-level callback: no closure per parsed body). */
let parsed: JsonBodyResult | undefined;

function keepParsed(error: Error | null, value?: unknown): void {
  parsed = error === null ? { ok: true, value } : { ok: false, error };
}

/** The depth-checked JSON body parser of `app`, the one its routes use (see installJsonParser). */
export function createJsonBodyParser(
  app: FastifyInstance,
  maxDepth: number = MAX_JSON_DEPTH,
): JsonBodyParser {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (text) => {
    if (jsonDepthExceeds(text, maxDepth)) return { ok: false, error: new JsonTooDeepError(maxDepth) };
    parsed = undefined;
    // Fastify's default JSON parser answers synchronously (into `parsed`) and never reads the request.
    parse(undefined as never, text, keepParsed);
    return parsed ?? { ok: false, error: new Error('the JSON body parser did not answer') };
  };
}

/**
 * Replaces the JSON body parser of `app` (and the scopes registered after) by the depth-checked one, and
 * returns it (the fast paths parse with the same).
 */
export function installJsonParser(app: FastifyInstance, maxDepth: number = MAX_JSON_DEPTH): JsonBodyParser {
  const parse = createJsonBodyParser(app, maxDepth);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const parsed = parse(body as string);
    if (parsed.ok) done(null, parsed.value);
    else done(parsed.error, undefined);
  });
  return parse;
}
