// Planning: how much information a guardrail needs for its margin and power, what power a plan reaches, and
// when a given regression is expected to be detected.

import { groupSequentialBoundaries } from './boundaries.ts';
import { crossingProbabilities, inflationFactor, sequentialPower } from './design.ts';
import { normalQuantile, normalSfQuantile } from './normal.ts';
import { DEFAULT_NON_INFERIORITY_RHO, type Spending, type TwoSidedConvention } from './spending.ts';

/** Type II error of each rollout's non-inferiority plan, shared by its guardrails (β/G each). */
export const DEFAULT_BETA = 0.2;

/** Fixed-horizon information (z_{1−α/sides} + z_{power})² / θ² for effect (margin) θ in metric units. */
export function fixedHorizonInformation(input: {
  margin: number;
  alpha: number;
  power: number;
  sides?: 1 | 2;
}): number {
  const z = normalSfQuantile(input.alpha / (input.sides ?? 1)) + normalQuantile(input.power);
  return (z * z) / (input.margin * input.margin);
}

/** Maximum information a group-sequential design needs: fixed horizon × inflation factor. */
export function requiredInformation(input: {
  margin: number;
  alpha: number;
  power: number;
  spending: Spending;
  informationFractions: readonly number[];
  sides?: 1 | 2;
  convention?: TwoSidedConvention;
}): { fixedHorizon: number; inflationFactor: number; maxInformation: number } {
  const fixedHorizon = fixedHorizonInformation(input);
  const factor = inflationFactor(input);
  return { fixedHorizon, inflationFactor: factor, maxInformation: fixedHorizon * factor };
}

/** Power of a one-sided group-sequential test to detect `effect` (> 0, metric units) with I_max information. */
export function planPower(input: {
  effect: number;
  maxInformation: number;
  alpha: number;
  spending: Spending;
  informationFractions: readonly number[];
}): number {
  const upper = groupSequentialBoundaries({ ...input, sides: 1 });
  return sequentialPower({
    upper,
    informationFractions: input.informationFractions,
    drift: input.effect * Math.sqrt(input.maxInformation),
  });
}

/** A guardrail's non-inferiority plan: the information it needs, and whether the planned information suffices. */
export interface NonInferiorityPlan {
  /** Target power per guardrail, 1 − β/G. */
  targetPower: number;
  fixedHorizon: number;
  inflationFactor: number;
  requiredInformation: number;
  plannedInformation: number;
  /** Power reached with the planned information. */
  reachablePower: number;
  sufficient: boolean;
}

/**
 * Plans the non-inferiority gate of one guardrail with absolute margin θ among G guardrails: power 1 − β/G at
 * α (default 0.05, ρ = 2), and the power the plan's information actually reaches.
 */
export function planNonInferiority(input: {
  margin: number;
  guardrails: number;
  plannedInformation: number;
  informationFractions: readonly number[];
  alpha?: number;
  beta?: number;
  spending?: Spending;
}): NonInferiorityPlan {
  const alpha = input.alpha ?? 0.05;
  const targetPower = 1 - (input.beta ?? DEFAULT_BETA) / input.guardrails;
  const spending = input.spending ?? { kind: 'power', rho: DEFAULT_NON_INFERIORITY_RHO };
  const req = requiredInformation({
    margin: input.margin,
    alpha,
    power: targetPower,
    spending,
    informationFractions: input.informationFractions,
  });
  const reachablePower = planPower({
    effect: input.margin,
    maxInformation: input.plannedInformation,
    alpha,
    spending,
    informationFractions: input.informationFractions,
  });
  return {
    targetPower,
    fixedHorizon: req.fixedHorizon,
    inflationFactor: req.inflationFactor,
    requiredInformation: req.maxInformation,
    plannedInformation: input.plannedInformation,
    reachablePower,
    sufficient: input.plannedInformation >= req.maxInformation,
  };
}

/** Detection profile of a regression: probability of rollback by each look and stage, and expected timing. */
export interface DetectionProfile {
  looks: { informationFraction: number; boundary: number | null; cumulativeProbability: number }[];
  byStage: { stage: number; probability: number }[];
  probabilityDetected: number;
  /** E[look of detection | detected], 1-based. */
  expectedLook: number;
  /** E[time of detection | detected] in the units of `lookTimes`, when given. */
  expectedTime: number | null;
}

/**
 * How fast the rollback test catches a regression `effect` (> 0, metric units, harm direction): `information`
 * is the expected information at each look, `stageOfLook` the stage of each look, `lookTimes` their times.
 */
export function detectionProfile(input: {
  effect: number;
  alpha: number;
  spending: Spending;
  information: readonly number[];
  maxInformation: number;
  stageOfLook?: readonly number[];
  lookTimes?: readonly number[];
}): DetectionProfile {
  const t = input.information.map((i) => i / input.maxInformation);
  const upper = groupSequentialBoundaries({
    alpha: input.alpha,
    spending: input.spending,
    informationFractions: t,
  });
  const res = crossingProbabilities({
    upper,
    informationFractions: t,
    drift: input.effect * Math.sqrt(input.maxInformation),
  });
  const looks = t.map((x, k) => ({
    informationFraction: x,
    boundary: Number.isFinite(upper[k] as number) ? (upper[k] as number) : null,
    cumulativeProbability: res.cumulativeUpper[k] as number,
  }));
  const byStage: { stage: number; probability: number }[] = [];
  input.stageOfLook?.forEach((stage, k) => {
    const last = byStage[byStage.length - 1];
    const p = res.cumulativeUpper[k] as number;
    if (last && last.stage === stage) last.probability = p;
    else byStage.push({ stage, probability: p });
  });
  const total = res.totalUpper;
  let expectedLook = 0;
  let expectedTime = 0;
  res.upper.forEach((p, k) => {
    expectedLook += p * (k + 1);
    expectedTime += p * (input.lookTimes?.[k] ?? 0);
  });
  return {
    looks,
    byStage,
    probabilityDetected: total,
    expectedLook: total > 0 ? expectedLook / total : Number.NaN,
    expectedTime: input.lookTimes && total > 0 ? expectedTime / total : null,
  };
}
