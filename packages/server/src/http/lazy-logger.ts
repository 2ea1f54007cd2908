/**
 * The per-request logger, created only when a request logs something. Fastify gives every request a child
 * logger bound to its request id; building one (bindings serialised, levels set up) costs more than many SDK
 * answers, and most requests never log. The child here forwards its first call to the real child, built then
 * with the same bindings and options, and to that one after.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

type Bindings = Record<string, unknown>;
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
type LogFn = (...args: unknown[]) => void;

class LazyChildLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildOptions;
  #real: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The real child logger, built on first use. */
  get real(): FastifyBaseLogger {
    this.#real ??= this.#parent.child(this.#bindings, this.#options);
    return this.#real;
  }

  get level(): string {
    return this.#real?.level ?? this.#options?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    const target = this.real as FastifyBaseLogger & { isLevelEnabled?: (l: string) => boolean };
    return target.isLevelEnabled?.(level) ?? true;
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.real.child(bindings, options);
  }

  fatal(...args: unknown[]): void {
    (this.real.fatal as LogFn)(...args);
  }

  error(...args: unknown[]): void {
    (this.real.error as LogFn)(...args);
  }

  warn(...args: unknown[]): void {
    (this.real.warn as LogFn)(...args);
  }

  info(...args: unknown[]): void {
    (this.real.info as LogFn)(...args);
  }

  debug(...args: unknown[]): void {
    (this.real.debug as LogFn)(...args);
  }

  trace(...args: unknown[]): void {
    (this.real.trace as LogFn)(...args);
  }

  silent(): void {}
}

/** Fastify's `childLoggerFactory`: a request's logger that builds the real child on its first use. */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) => new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
