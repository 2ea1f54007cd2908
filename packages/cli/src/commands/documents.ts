/**
 * The shared shape of the document command groups (segments, metrics, surfaces): `list`, `get <key>`,
 * `create -f file`, `update <key> -f file`, `delete <key>`, each calling one admin client method.
 */
import type { AdminClient } from '@dimmer/sdk';
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { usageError } from '../errors.ts';
import { readDocument } from '../input.ts';

/** Parses `--if-version <n>`: a positive integer. */
export function versionOption(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^[1-9][0-9]{0,14}$/.test(raw))
    throw usageError(`--if-version: expected a document version (1, 2, …), got ${raw}`);
  return Number(raw);
}

/**
 * The version an update is made from, taken out of the document: `--if-version`, else the file's own `version`
 * (a document saved from `get --json`), else undefined (the caller reads the current one).
 */
export function takeVersion(doc: Record<string, unknown>, raw: string | undefined): number | undefined {
  const fromFile = doc.version;
  delete doc.version;
  return versionOption(raw) ?? (typeof fromFile === 'number' ? fromFile : undefined);
}

/** How one document kind is listed, shown and sent. */
export interface DocumentKind<T> {
  /** Command group name, e.g. `segments`. */
  group: string;
  /** Singular noun for messages, e.g. `segment`. */
  noun: string;
  description: string;
  /** Field of the list reply in `--json` output, e.g. `segments`. */
  listField: string;
  list(client: AdminClient): Promise<T[]>;
  get(client: AdminClient, key: string): Promise<T & { version: number }>;
  create(client: AdminClient, doc: Record<string, unknown>): Promise<T>;
  /** Replaces the document, sending the version it was read at (a changed document is refused with a 409). */
  replace(client: AdminClient, key: string, doc: Record<string, unknown>, version: number): Promise<T>;
  remove(client: AdminClient, key: string): Promise<void>;
  formatList(items: readonly T[]): string;
  formatOne(item: T): string;
  keyOf(item: T): string;
  /** Options `create` also accepts instead of a file ([flags, description] pairs), and the document they make. */
  createOptions?: [string, string][];
  fromOptions?(opts: Record<string, string | undefined>): Record<string, unknown>;
}

/** Registers a document command group on the program. */
export function registerDocumentCommands<T>(
  program: Command,
  ctx: CliContext,
  kind: DocumentKind<T>,
): Command {
  const group = program.command(kind.group).description(kind.description);

  group
    .command('list')
    .description(`List ${kind.group}`)
    .action(async (_opts: unknown, cmd: Command) => {
      const items = await kind.list(ctx.admin(cmd));
      ctx.output(cmd, { [kind.listField]: items }, () =>
        items.length === 0 ? `No ${kind.group}.\n` : kind.formatList(items),
      );
    });

  group
    .command('get')
    .description(`Show one ${kind.noun}`)
    .argument('<key>', `${kind.noun} key`)
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      const item = await kind.get(ctx.admin(cmd), key);
      ctx.output(cmd, item, () => kind.formatOne(item));
    });

  const create = group.command('create');
  if (kind.fromOptions === undefined)
    create
      .description(`Create a ${kind.noun} from a JSON or YAML document`)
      .requiredOption('-f, --file <path>', 'the document (.json, .yaml or .yml)');
  else {
    create
      .description(`Create a ${kind.noun} from a JSON or YAML document, or from options`)
      .option('-f, --file <path>', 'the document (.json, .yaml or .yml)');
    for (const [flags, description] of kind.createOptions ?? []) create.option(flags, description);
  }
  create.action(async (opts: { file?: string } & Record<string, string | undefined>, cmd: Command) => {
    const fromOptions = kind.fromOptions;
    if (opts.file === undefined && fromOptions === undefined)
      throw usageError(`${kind.group} create: -f, --file <path> is required`);
    const doc =
      opts.file !== undefined
        ? await readDocument(opts.file, ctx.io.cwd)
        : (fromOptions as NonNullable<typeof fromOptions>)(opts);
    if (
      opts.file !== undefined &&
      Object.keys(kind.fromOptions?.({ ...opts, file: undefined }) ?? {}).length > 0
    )
      throw usageError(
        `${kind.group} create: give the ${kind.noun} either as a file (-f) or as options, not both`,
      );
    const item = await kind.create(ctx.admin(cmd), doc);
    ctx.output(cmd, item, () => `Created ${kind.noun} ${kind.keyOf(item)}.\n\n${kind.formatOne(item)}`);
  });

  group
    .command('update')
    .description(`Replace a ${kind.noun} from a JSON or YAML document`)
    .argument('<key>', `${kind.noun} key`)
    .requiredOption('-f, --file <path>', 'the document (.json, .yaml or .yml)')
    .option('--if-version <n>', 'the version the file was made from (default: the current one, read first)')
    .action(async (key: string, opts: { file: string; ifVersion?: string }, cmd: Command) => {
      const doc = await readDocument(opts.file, ctx.io.cwd);
      const client = ctx.admin(cmd);
      const version = takeVersion(doc, opts.ifVersion) ?? (await kind.get(client, key)).version;
      const item = await kind.replace(client, key, doc, version);
      ctx.output(cmd, item, () => `Updated ${kind.noun} ${kind.keyOf(item)}.\n\n${kind.formatOne(item)}`);
    });

  group
    .command('delete')
    .description(`Delete a ${kind.noun}`)
    .argument('<key>', `${kind.noun} key`)
    .action(async (key: string, _opts: unknown, cmd: Command) => {
      await kind.remove(ctx.admin(cmd), key);
      ctx.output(cmd, { deleted: key }, () => `Deleted ${kind.noun} ${key}.\n`);
    });

  return group;
}
