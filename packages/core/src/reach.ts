import { BUCKET_COUNT } from './model.ts';

/** Buckets per percent of reach: 1% = 10,000 buckets of 1,000,000. */
export const BUCKETS_PER_PERCENT = BUCKET_COUNT / 100;
/** Reach is given in percent with at most this many decimals. */
export const REACH_DECIMALS = 4;

/**
 * Converts a reach in percent (0 to 100, at most four decimals, e.g. 0.0125) to a bucket count in
 * [0, 1,000,000]. Throws RangeError for anything else, since a silently rounded reach would move users.
 */
export function reachToBuckets(percent: number): number {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0 || percent > 100)
    throw new RangeError(`reach must be a percentage between 0 and 100, got ${percent}`);
  const buckets = Math.round(percent * BUCKETS_PER_PERCENT);
  if (Math.abs(buckets - percent * BUCKETS_PER_PERCENT) > 1e-6)
    throw new RangeError(`reach has at most ${REACH_DECIMALS} decimals, got ${percent}`);
  return buckets;
}

/** Converts a bucket count in [0, 1,000,000] back to a reach in percent (10,000 buckets = 1%). */
export function bucketsToReach(buckets: number): number {
  return buckets / BUCKETS_PER_PERCENT;
}
