/** Reading and writing column values the same way on SQLite and PostgreSQL, and building statements in parts. */

/** Rows per multi-row INSERT and values per IN list (keeps statements well under every parameter limit). */
export const SQL_CHUNK = 100;

/** A numeric column (PostgreSQL returns BIGINT as a string). */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

/** A text column. */
export function str(value: unknown): string {
  return String(value);
}

/** A JSON text column, null when absent. */
export function json(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}

/** A value for a JSON text column, null when absent. */
export function toJson(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** A nullable epoch-milliseconds column. */
export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

/** Escapes `\`, `%` and `_` for a LIKE pattern with `ESCAPE '\'`. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

/** Splits `items` into groups of at most `size`. */
export function chunks<T>(items: readonly T[], size = SQL_CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `count` placeholders, or `count` tuples of `width` placeholders: `?, ?` or `(?, ?), (?, ?)`. */
export function marks(count: number, width = 1): string {
  const one = width === 1 ? '?' : `(${new Array(width).fill('?').join(', ')})`;
  return new Array(count).fill(one).join(', ');
}

/** ` WHERE a AND b`, or nothing when there are no conditions. */
export function whereClause(conditions: readonly string[]): string {
  return conditions.length ? ' WHERE ' + conditions.join(' AND ') : '';
}
