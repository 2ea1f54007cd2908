// Welch's unequal-variance t-test, from summary statistics or raw samples.

import { studentTSf } from './student-t.ts';

/** Alternative hypothesis: `greater` means treatment mean above control. */
export type Alternative = 'two-sided' | 'greater' | 'less';

/** Result of a Welch t-test. */
export interface WelchResult {
  t: number;
  df: number;
  pValue: number;
  /** Difference of means, treatment − control. */
  difference: number;
  se: number;
}

/** Welch t-test from means, standard deviations (n − 1 denominators) and sizes of two groups. */
export function welchTTest(input: {
  meanTreatment: number;
  sdTreatment: number;
  nTreatment: number;
  meanControl: number;
  sdControl: number;
  nControl: number;
  alternative?: Alternative;
}): WelchResult {
  const vt = (input.sdTreatment * input.sdTreatment) / input.nTreatment;
  const vc = (input.sdControl * input.sdControl) / input.nControl;
  const se = Math.sqrt(vt + vc);
  const difference = input.meanTreatment - input.meanControl;
  const t = difference / se;
  const df = (vt + vc) ** 2 / ((vt * vt) / (input.nTreatment - 1) + (vc * vc) / (input.nControl - 1));
  const alternative = input.alternative ?? 'two-sided';
  const pValue =
    alternative === 'greater'
      ? studentTSf(t, df)
      : alternative === 'less'
        ? studentTSf(-t, df)
        : Math.min(1, 2 * studentTSf(Math.abs(t), df));
  return { t, df, pValue, difference, se };
}

/** Mean and sample standard deviation (two-pass, n − 1 denominator). */
export function describeSample(values: readonly number[]): { mean: number; sd: number; n: number } {
  const n = values.length;
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) * (v - mean);
  return { mean, sd: Math.sqrt(ss / (n - 1)), n };
}

/** Welch t-test on two raw samples. */
export function welchTTestSamples(
  treatment: readonly number[],
  control: readonly number[],
  alternative: Alternative = 'two-sided',
): WelchResult {
  const t = describeSample(treatment);
  const c = describeSample(control);
  return welchTTest({
    meanTreatment: t.mean,
    sdTreatment: t.sd,
    nTreatment: t.n,
    meanControl: c.mean,
    sdControl: c.sd,
    nControl: c.n,
    alternative,
  });
}
