// Validation helpers shared by the plan and metric validators: issues carry a JSON path in the same notation
// as core's flag validation (`stages[2].reach`, `$` for the document itself).

import type { ValidationIssue, ValidationResult } from '@dimmer/core';

/** Collects issues with their JSON paths. */
export class Issues {
  readonly list: ValidationIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path: path === '' ? '$' : path, message });
  }
  result<T>(value: T): ValidationResult<T> {
    return this.list.length === 0 ? { ok: true, value } : { ok: false, issues: this.list };
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The path of a field or an array element below `path`. */
export function child(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A short description of a value for messages ("the string \"x\"", "the number 3", "an array"). */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 40
      ? `a string of ${value.length} characters`
      : `the string ${JSON.stringify(value)}`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `${value}`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export type Fields = Record<string, unknown>;

/** True for a plain JSON object (not an array, not null, not a class instance). */
export function isPlainObject(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Adds an issue unless `value` is a plain object. */
export function expectObject(value: unknown, path: string, issues: Issues, what: string): value is Fields {
  if (isPlainObject(value)) return true;
  issues.add(path, `expected ${what}, got ${describe(value)}`);
  return false;
}

/** Adds an issue for every field not in `allowed`. */
export function rejectUnknownFields(
  obj: Fields,
  allowed: readonly string[],
  path: string,
  issues: Issues,
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key))
      issues.add(
        child(path, key),
        `unknown field ${JSON.stringify(key)}; allowed fields: ${allowed.join(', ')}`,
      );
  }
}

/** Adds an issue when a required field is missing. */
export function requireField(obj: Fields, key: string, path: string, issues: Issues): boolean {
  if (Object.hasOwn(obj, key)) return true;
  issues.add(child(path, key), 'required field is missing');
  return false;
}

/** Adds an issue unless `value` is one of `options`. */
export function expectOneOf<T extends string>(
  value: unknown,
  options: readonly T[],
  path: string,
  issues: Issues,
): value is T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return true;
  issues.add(
    path,
    `expected one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${describe(value)}`,
  );
  return false;
}

/** Adds an issue unless `value` is a positive finite number. */
export function checkPositive(value: unknown, path: string, issues: Issues, what: string): value is number {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return true;
  issues.add(path, `expected ${what} (a number > 0), got ${describe(value)}`);
  return false;
}
