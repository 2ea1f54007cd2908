// Public API of @dimmer/stats: pure statistics over plain numbers.
export * from './boundaries.ts';
export * from './confidence-sequence.ts';
export * from './design.ts';
export * from './gating.ts';
export * from './guardrail.ts';
export * from './histogram.ts';
export * from './metrics.ts';
export * from './normal.ts';
export * from './planning.ts';
export * from './quantile-bootstrap.ts';
export * from './quantile-compare.ts';
export * from './quantile-event.ts';
export {
  DEFAULT_GRID_RESOLUTION,
  FINE_GRID_GAIN,
  POWER_GRID_RESOLUTION,
  type SubDensity,
} from './recursion.ts';
export * from './relative-change.ts';
export * from './special.ts';
export * from './spending.ts';
export * from './srm.ts';
export * from './student-t.ts';
export * from './welch.ts';
