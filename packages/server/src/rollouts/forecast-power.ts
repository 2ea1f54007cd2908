/**
 * The power check of a plan forecast: when the plan's chance of passing its final non-inferiority gate with no
 * true harm is below 1 − β at the forecast traffic, about how long the gated stages would have to run to reach
 * it: every stage before the final step scaled by the shortfall in information (no further forecast, which
 * would cost seconds for long plans).
 */
import {
  finalStageIndex,
  formatDuration,
  type PlanForecast,
  type RolloutPlan,
  type TrafficForecast,
} from '@dimmer/rollout';
import { DEFAULT_BETA } from '@dimmer/stats';

/** The power every plan should have to pass its final gate when the change does no harm. */
export const TARGET_GATE_POWER = 1 - DEFAULT_BETA;
/** Longest gated time the search proposes; a plan that needs more gets advice without a duration. */
export const MAX_ADVISED_GATED_MS = 365 * 86_400_000;

/** What the plan would need to reach the target power at the forecast traffic. */
export interface GatePowerAdvice {
  /** Chance that every guardrail passes the final gate with no true harm, as planned. */
  power: number;
  targetPower: number;
  unitsPerDay: number;
  /** The guardrails whose power is short, with their power. */
  metrics: Record<string, number>;
  /** About the factor every gated stage's minimum duration needs; null when the need is beyond a year. */
  durationFactor: number | null;
  /** The gated stages with the minimum durations that reach the target (empty without a factor). */
  stages: { index: number; reach: number; minDurationMs: number }[];
  /** Total gated time as planned and as needed, in milliseconds (needed: null without a factor). */
  plannedGatedMs: number;
  neededGatedMs: number | null;
  /** The warning in words, also added to the forecast's warnings. */
  message: string;
}

function scaled(plan: RolloutPlan, factor: number): RolloutPlan {
  const last = finalStageIndex(plan);
  return {
    ...plan,
    stages: plan.stages.map((s, k) =>
      k < last ? { ...s, minDuration: Math.ceil(s.minDuration * factor) } : s,
    ),
  };
}

function gatedMs(plan: RolloutPlan): number {
  const last = finalStageIndex(plan);
  return plan.stages.slice(0, last).reduce((a, s) => a + s.minDuration, 0);
}

function percent(x: number): string {
  return `${Number((x * 100).toPrecision(3))}%`;
}

/**
 * Checks `forecast` (of `plan` at `traffic`) against the target power; null when every guardrail with a
 * baseline passes often enough, or when no guardrail could be forecast. Otherwise the factor and stage
 * durations that reach about the target, or none when it takes over a year.
 */
export function adviseGatePower(
  plan: RolloutPlan,
  traffic: TrafficForecast,
  forecast: PlanForecast,
): GatePowerAdvice | null {
  const planned = Object.keys(forecast.powerPerMetric);
  if (planned.length === 0 || !(traffic.unitsPerDay > 0)) return null;
  const power = forecast.allGuardrailsPass;
  if (power >= TARGET_GATE_POWER) return null;
  const metrics: Record<string, number> = {};
  for (const [metric, p] of Object.entries(forecast.powerPerMetric))
    if (p < (forecast.nonInferiority[metric]?.targetPower ?? TARGET_GATE_POWER)) metrics[metric] = p;
  const plannedGatedMs = gatedMs(plan);
  // Information grows in proportion to time at a steady rate, so the shortfall in information is the factor
  // the gated stages need. More looks inflate the requirement a little: the figure is an estimate ("about").
  const need = Math.max(
    1,
    ...Object.entries(forecast.nonInferiority)
      .filter(([metric]) => metric in metrics)
      .map(([, ni]) =>
        ni.plannedInformation > 0 ? ni.requiredInformation / ni.plannedInformation : Number.POSITIVE_INFINITY,
      ),
  );
  const factor = plannedGatedMs > 0 && need * plannedGatedMs <= MAX_ADVISED_GATED_MS ? need : null;
  const longer = factor === null ? null : scaled(plan, factor);
  const last = finalStageIndex(plan);
  const stages =
    longer === null
      ? []
      : longer.stages.slice(0, last).map((s, index) => ({
          index,
          reach: forecast.stages[index]?.reach ?? s.reach,
          minDurationMs: s.minDuration,
        }));
  const neededGatedMs = longer === null ? null : gatedMs(longer);
  const short = Object.entries(metrics)
    .map(([m, p]) => `${m} ${percent(p)}`)
    .join(', ');
  const rate = `${Math.round(traffic.unitsPerDay).toLocaleString('en-US')} units a day`;
  const advice =
    neededGatedMs === null
      ? `even a year of stages would not reach it at this traffic: widen the margin${planned.length > 1 ? 's' : ''} or raise the traffic`
      : `stages of about ${stages.map((s) => `${s.reach}%: ${formatDuration(s.minDurationMs)}`).join(', ')} (${formatDuration(neededGatedMs)} before the final step instead of ${formatDuration(plannedGatedMs)}) would reach it`;
  return {
    power,
    targetPower: TARGET_GATE_POWER,
    unitsPerDay: traffic.unitsPerDay,
    metrics,
    durationFactor: factor,
    stages,
    plannedGatedMs,
    neededGatedMs,
    message: `the plan passes its final gate with only ${percent(power)} probability when the change does no harm (target ${percent(TARGET_GATE_POWER)}; ${short}) at ${rate}: ${advice}`,
  };
}
