/** Reading the documents commands send: JSON or YAML files, and JSON Lines event files. */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { CliError } from './errors.ts';

async function readText(path: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, path), 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new CliError(
      code === 'ENOENT'
        ? `cannot read ${path}: no such file`
        : `cannot read ${path}: ${(error as Error).message}`,
    );
  }
}

/**
 * Reads one document from a `.json`, `.yaml` or `.yml` file (other extensions: JSON, then YAML). The error
 * names the file and, for syntax errors, the line.
 */
export async function readDocument(path: string, cwd: string): Promise<Record<string, unknown>> {
  const text = await readText(path, cwd);
  const ext = extname(path).toLowerCase();
  let value: unknown;
  if (ext === '.json') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CliError(`${path} is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    // Loaded on use: the YAML parser stays out of the startup of commands that read no document.
    const { parse: parseYaml } = await import('yaml');
    try {
      value = parseYaml(text, { prettyErrors: true });
    } catch (error) {
      throw new CliError(
        `${path} is not valid ${ext === '' ? 'JSON or YAML' : 'YAML'}: ${(error as Error).message}`,
      );
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CliError(
      `${path} must hold one object (a document), not ${Array.isArray(value) ? 'a list' : typeof value}`,
    );
  return value as Record<string, unknown>;
}

/** One parsed line of a JSON Lines file, with its 1-based line number. */
export interface JsonLine {
  line: number;
  value: Record<string, unknown>;
}

/** Reads a JSON Lines file: one JSON object per line, blank lines skipped; an error names the line. */
export async function readJsonLines(path: string, cwd: string): Promise<{ text: string; lines: JsonLine[] }> {
  const text = await readText(path, cwd);
  const lines: JsonLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (raw.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new CliError(`${path} line ${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new CliError(`${path} line ${i + 1}: expected one event object per line`);
    lines.push({ line: i + 1, value: value as Record<string, unknown> });
  });
  return { text, lines };
}
