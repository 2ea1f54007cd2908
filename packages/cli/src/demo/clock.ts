/**
 * The demo's one shared clock: the server and the SDK client both read it, so event timestamps, exposures and
 * stage durations all live in the same simulated time. While traffic runs the demo moves it by hand; with
 * `--keep` it then runs on at real-time pace from where the simulation stopped.
 */

/** A clock the demo moves by hand, then lets run at real-time pace. */
export class DemoClock {
  #simulated: number;
  /** Real epoch ms at which the clock was released to run at real-time pace; undefined while simulated. */
  #releasedAt: number | undefined;

  /** `start` is the first simulated instant, in epoch milliseconds. */
  constructor(start: number) {
    this.#simulated = start;
  }

  /** Current simulated time, in epoch milliseconds. */
  now(): number {
    return this.#releasedAt === undefined
      ? this.#simulated
      : this.#simulated + (Date.now() - this.#releasedAt);
  }

  /** Moves the clock to `at` (epoch ms); never backwards, so timestamps stay ordered. */
  set(at: number): void {
    if (this.#releasedAt !== undefined) return;
    this.#simulated = Math.max(this.#simulated, at);
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.set(this.#simulated + ms);
  }

  /** From now on the clock advances one millisecond per real millisecond. */
  release(): void {
    if (this.#releasedAt === undefined) this.#releasedAt = Date.now();
  }
}
