/** The interval of the deciding test of a stored metric look, as the API, the CLI and the demo show it. */
import type { RelativeChange } from '@dimmer/api';
import { type DecidingLook, decidingInterval } from '@dimmer/stats';

/** The interval of the test that decided a stored metric look (packages/stats `decidingInterval`). */
export function relativeChangeOf(summary: DecidingLook | null | undefined): RelativeChange | null {
  if (summary === null || summary === undefined) return null;
  const r = decidingInterval(summary);
  const finite = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
  return {
    test: r.test,
    multiplier: r.multiplier,
    lift: r.relative?.lift ?? finite((summary as { relativeLift?: unknown }).relativeLift),
    lower: r.relative?.lower ?? null,
    upper: r.relative?.upper ?? null,
    absolute: r.absolute,
    z: r.z,
    boundary: r.boundary,
    margin: r.margin,
  };
}
