/**
 * The documentation's code blocks as the docs test runs them (the convention is written down in
 * docs/README.md): `sh`, `bash` and `shell` blocks are commands, `http` blocks are requests, every other block is
 * a document, a reply or output and is not run, except a block right after `<!-- file: <name> -->`, which is
 * written to that file before the page's commands run. `<!-- illustrative: <why> -->` right before a command or
 * request block says it is not run, and why.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Info strings of blocks that are commands. */
export const COMMAND_LANGUAGES: ReadonlySet<string> = new Set(['sh', 'bash', 'shell']);
/** Info string of blocks that are HTTP requests. */
export const REQUEST_LANGUAGE = 'http';

export type BlockKind = 'command' | 'request' | 'file' | 'other';

/** One fenced block of a page. */
export interface DocBlock {
  /** Page path from the repository root. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  kind: BlockKind;
  /** The block's text, without the fences. */
  text: string;
  /** Set when the block is marked illustrative: the reason given. */
  illustrative: string | null;
  /** For a `file` block: the file name. */
  file: string | null;
}

const FENCE = /^(\s*)(```+|~~~+)\s*([\w-]*)/;
const MARKER = /^<!--\s*(illustrative|file)\s*(?::\s*(.*?))?\s*-->$/;

/** Reads every fenced block of one page, with the marker on the last non-blank line before it. */
export function readBlocks(page: string, source: string): DocBlock[] {
  const lines = source.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (open === null) continue;
    const [, indent, fence, language = ''] = open as unknown as [string, string, string, string];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j] as string;
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, '') === '') break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line);
    }
    let k = i - 1;
    while (k >= 0 && (lines[k] as string).trim() === '') k--;
    const marker = k >= 0 ? MARKER.exec((lines[k] as string).trim()) : null;
    const lang = language.toLowerCase();
    const kind: BlockKind =
      marker?.[1] === 'file'
        ? 'file'
        : COMMAND_LANGUAGES.has(lang)
          ? 'command'
          : lang === REQUEST_LANGUAGE
            ? 'request'
            : 'other';
    blocks.push({
      page,
      line: i + 1,
      language: lang,
      kind,
      text: body.join('\n'),
      illustrative: marker?.[1] === 'illustrative' ? (marker[2] ?? '') : null,
      file: marker?.[1] === 'file' ? (marker[2] ?? null) : null,
    });
    i = j;
  }
  return blocks;
}

/** README.md and every page under docs/, README first, then the docs in path order. */
export function documentationPages(root: string): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) pages.push(relative(root, path));
    }
  };
  walk(join(root, 'docs'));
  return ['README.md', ...pages];
}

/** Every block of every page. */
export function readDocumentation(root: string): DocBlock[] {
  return documentationPages(root).flatMap((page) => readBlocks(page, readFileSync(join(root, page), 'utf8')));
}

/** A parsed `http` block: the method, the path, headers and the JSON body (if any). */
export interface HttpRequestBlock {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/**
 * Parses an `http` block: `METHOD /path`, then `Name: value` header lines, then (after an optional blank line)
 * a JSON body. Throws with the reason when the block is not a request.
 */
export function parseRequestBlock(text: string): HttpRequestBlock {
  const lines = text.split('\n');
  const first = /^(GET|POST|PUT|PATCH|DELETE)\s+(\/\S*)$/.exec((lines[0] ?? '').trim());
  if (first === null)
    throw new Error(`expected "METHOD /path" on the first line, got ${JSON.stringify(lines[0])}`);
  const headers: Record<string, string> = {};
  let i = 1;
  for (; i < lines.length; i++) {
    const header = /^([A-Za-z][\w-]*):\s*(.*)$/.exec(lines[i] as string);
    if (header === null) break;
    headers[(header[1] as string).toLowerCase()] = header[2] as string;
  }
  const rest = lines.slice(i).join('\n').trim();
  return {
    method: first[1] as string,
    path: first[2] as string,
    headers,
    body: rest === '' ? undefined : JSON.parse(rest),
  };
}
