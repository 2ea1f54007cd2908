// Acceptance scenarios 2–9 of statistics.md: each returns rows of (scenario, target, measured, Monte Carlo
// error, pass). Looks are daily; statistics are drawn per look and per arm as sufficient statistics (see
// models.ts for which draws are exact) and analysed with the library's per-look machinery (engine.ts).

import {
  type CohortStats,
  combineCohorts,
  createBoundaryState,
  createSrmState,
  crossingProbabilities,
  DEFAULT_SRM_THRESHOLD,
  estimateArm,
  extendBoundaries,
  gatingStatistic,
  groupSequentialBoundaries,
  normalQuantile,
  regularizedBeta,
  requiredInformation,
  updateSrm,
} from '../src/index.ts';
import {
  ALPHA_PER_METRIC,
  type BoundaryNode,
  BoundaryTree,
  crosses,
  emptyStats,
  GUARDRAILS,
  NI_ALPHA,
  NI_SPENDING,
  PLAN,
  plannedEffectiveUnits,
  plannedMaxUnits,
  ROLLBACK_ALPHA,
  ROLLBACK_SPENDING,
  simulateRollout,
  stageOf,
} from './engine.ts';
import { bernoulliModel, extraModels, guardrailModels, type MetricModel, normalModel } from './models.ts';
import { Rng } from './prng.ts';

export { PLAN, simulateRollout } from './engine.ts';

/** One line of the report. `value` is a probability unless `unit` says otherwise. */
export interface Row {
  scenario: string;
  target: string;
  /** Numeric bound the measurement is compared with. */
  compareTo: number;
  measured: number;
  mcse: number;
  /** null: reported, not gated. */
  pass: boolean | null;
  /**
   * Per-metric A/A rows: the exact binomial p-value of "rate ≤ α/G" given the count, and whether Holm's
   * procedure at 5% over all such rows rejects it (the row's pass is the negation).
   */
  exactGate?: { count: number; pValue: number; holmRejected: boolean };
  unit: 'probability' | 'ms' | 'boolean';
  note?: string;
}

/** Family-wise level of the exact binomial gate over the per-metric rows (Holm). */
const PER_METRIC_FAMILY_ALPHA = 0.05;

function mcseAt(p: number, reps: number): number {
  return Math.sqrt((p * (1 - p)) / reps);
}

/** A row "measured ≤ bound", the bound widened to `base + 2·MCSE(base)`. */
function atMost(scenario: string, measured: number, base: number, reps: number, floor?: number): Row {
  const mcse = mcseAt(base, reps);
  const bound = Math.max(floor ?? 0, base + 2 * mcse);
  return {
    scenario,
    target: `≤ ${bound.toFixed(4)}`,
    compareTo: bound,
    measured,
    mcse: mcseAt(Math.max(measured, 1 / reps), reps),
    pass: measured <= bound,
    unit: 'probability',
  };
}

/** A row "measured ≥ target", allowing 2·MCSE below it. */
function atLeast(scenario: string, measured: number, target: number, reps: number): Row {
  const mcse = mcseAt(target, reps);
  return {
    scenario,
    target: `≥ ${target.toFixed(3)} (−2·MCSE)`,
    compareTo: target,
    measured,
    mcse: mcseAt(measured, reps),
    pass: measured >= target - 2 * mcse,
    unit: 'probability',
  };
}

/** P(X ≥ k) for X ~ Binomial(n, p): the exact p-value of k events against "rate ≤ p". */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  return regularizedBeta(p, k, n - k + 1);
}

/**
 * Exact binomial gate with Holm's step-down procedure at `alpha` over all rows that carry a count: each row's
 * p-value is P(Binomial(R, α/G) ≥ count); a row passes unless Holm rejects "rate ≤ α/G" for it.
 */
export function applyExactGate(rows: Row[], reps: number, alpha = PER_METRIC_FAMILY_ALPHA): Row[] {
  const gated = rows
    .map((r, i) => ({ i, p: r.exactGate?.pValue ?? Number.NaN }))
    .filter((x) => !Number.isNaN(x.p))
    .sort((a, b) => a.p - b.p);
  const rejected = new Set<number>();
  for (const [j, x] of gated.entries()) {
    if (x.p <= alpha / (gated.length - j)) rejected.add(x.i);
    else break;
  }
  return rows.map((r, i) => {
    if (r.exactGate === undefined) return r;
    const holmRejected = rejected.has(i);
    return {
      ...r,
      target: `≤ ${ALPHA_PER_METRIC.toFixed(5)} (exact binomial, Holm over ${gated.length} rows; R = ${reps.toLocaleString('en')})`,
      pass: !holmRejected,
      exactGate: { ...r.exactGate, holmRejected },
    };
  });
}

/** A per-metric A/A row with its exact binomial p-value (the Holm verdict is applied over all rows later). */
function perMetric(scenario: string, count: number, reps: number, note?: string): Row {
  const measured = count / reps;
  return {
    scenario,
    target: `≤ ${ALPHA_PER_METRIC.toFixed(5)}`,
    compareTo: ALPHA_PER_METRIC,
    measured,
    mcse: mcseAt(Math.max(measured, 1 / reps), reps),
    pass: null,
    exactGate: { count, pValue: binomialUpperTail(count, reps, ALPHA_PER_METRIC), holmRejected: false },
    unit: 'probability',
    ...(note !== undefined ? { note } : {}),
  };
}
/** Scenario 2: fixed-horizon one-sided z at α = 0.05 checked daily for 14 days (equal daily information). */
export function naivePeeking(reps: number, seed: number): Row[] {
  const rng = new Rng(seed);
  const model = normalModel('normal', 10, 4);
  const z = normalQuantile(0.95);
  const perDay = 1000;
  let hits = 0;
  for (let rep = 0; rep < reps; rep++) {
    const t = emptyStats();
    const c = emptyStats();
    for (let day = 1; day <= PLAN.days; day++) {
      model.draw(rng, perDay, 1, 'treatment', t);
      model.draw(rng, perDay, 1, 'control', c);
      const a = estimateArm('mean', t);
      const b = estimateArm('mean', c);
      if (a && b && (a.mean - b.mean) / Math.sqrt(a.variance + b.variance) >= z) {
        hits++;
        break;
      }
    }
  }
  const measured = hits / reps;
  const target = 0.192;
  const tolerance = Math.max(0.006, 2 * mcseAt(target, reps));
  return [
    {
      scenario: '2. naive daily peeking, A/A, 14 looks (negative control)',
      target: `${target} ± ${tolerance.toFixed(4)}`,
      compareTo: target,
      measured,
      mcse: mcseAt(measured, reps),
      pass: Math.abs(measured - target) <= tolerance,
      unit: 'probability',
    },
  ];
}

/** Scenarios 3 and 5: A/A false rollbacks of the six guardrails, the further data models, trends and overrun. */
export function falseRollbacks(reps: number, seed: number): Row[] {
  const rows: Row[] = [];
  const family = guardrailModels();
  const models = [...family, ...extraModels()];
  const familySize = family.length;
  for (const trend of [0, 0.2, -0.2]) {
    const r = simulateRollout({
      reps,
      seed: seed + (trend === 0 ? 0 : trend > 0 ? 1 : 2),
      models,
      familySize,
      trend,
    });
    const label = trend === 0 ? '' : `, ${trend > 0 ? '+' : '−'}${Math.abs(trend * 100)}% baseline trend`;
    rows.push(
      atMost(`3. A/A family-wise false rollback, G = 6${label}`, r.family / reps, ROLLBACK_ALPHA, reps),
    );
    if (trend === 0) {
      const spent = r.firstLookSpent / reps;
      rows.push({
        ...atMost('3. A/A family-wise, first look (day 1) alone', r.familyFirstLook / reps, spent, reps),
        note: `α spent at the first look, summed over the six guardrails and averaged over replications: ${spent.toExponential(3)} (a metric below its minimum information spends none)`,
      });
    }
    models.forEach((m, i) => {
      const count = r.rolledBackByDay[i]?.[PLAN.days - 1] ?? 0;
      const skew = Number.isFinite(m.unitSkewness) ? `; per-unit skewness ${m.unitSkewness.toFixed(1)}` : '';
      rows.push(perMetric(`3. A/A per metric${label}: ${m.name}`, count, reps, `${m.method}${skew}`));
    });
  }
  for (const traffic of [1.5, 2]) {
    const r = simulateRollout({ reps, seed: seed + Math.round(traffic * 10), models: family, traffic });
    rows.push({
      ...atMost(
        `5. A/A family-wise, traffic ${traffic}× plan (overrun)`,
        r.family / reps,
        ROLLBACK_ALPHA,
        reps,
        0.055,
      ),
      note: 'N_max frozen at the plan; looks past it use the one-sided CS at the unspent α',
    });
  }
  return rows;
}

/**
 * Per-unit cohort scenario: every unit is assigned at random by the day's split and draws a normal outcome
 * whose mean triples over the 14 days. Drawn exactly without visiting units: the day's treatment count is
 * Binomial(units, reach) and each arm's sums come from the normal model. The same data are also analysed
 * pooled across stages (the contrast).
 */
export function perUnitCohorts(reps: number, seed: number, unitsPerDay: number): Row[] {
  const rng = new Rng(seed);
  const drift = 2; // the baseline mean rises from 10 to 30
  const outcome = normalModel('per-unit normal', 10, 4);
  const traffic = unitsPerDay / PLAN.unitsPerDay;
  const planned = plannedEffectiveUnits(traffic);
  const nMax = planned[PLAN.days - 1] as number;
  const totals = planned.map((_, k) => unitsPerDay * (k + 1));
  const tree = new BoundaryTree(
    ALPHA_PER_METRIC,
    ROLLBACK_SPENDING,
    planned.map((n) => n / nMax),
    totals,
  );
  let cohortHits = 0;
  let pooledHits = 0;
  for (let rep = 0; rep < reps; rep++) {
    const cohorts: CohortStats[] = PLAN.stages.map(() => ({
      treatment: emptyStats(),
      control: emptyStats(),
    }));
    const pooled: CohortStats = { treatment: emptyStats(), control: emptyStats() };
    const cohortTest = new SingleTest(tree);
    const pooledTest = new SingleTest(tree);
    let cohortDone = false;
    let pooledDone = false;
    for (let day = 1; day <= PLAN.days; day++) {
      const stage = stageOf(day);
      const reach = PLAN.stages[stage]?.reach ?? 0;
      const scale = 1 + (drift * (day - 1)) / (PLAN.days - 1);
      const cohort = cohorts[stage] as CohortStats;
      const nT = rng.binomial(unitsPerDay, reach);
      const dayT = emptyStats();
      const dayC = emptyStats();
      outcome.draw(rng, nT, scale, 'treatment', dayT);
      outcome.draw(rng, unitsPerDay - nT, scale, 'control', dayC);
      for (const [part, into] of [
        [dayT, cohort.treatment],
        [dayT, pooled.treatment],
        [dayC, cohort.control],
        [dayC, pooled.control],
      ] as const) {
        into.n += part.n;
        into.sumY += part.sumY;
        into.sumY2 += part.sumY2;
        into.sumY3 = (into.sumY3 ?? 0) + (part.sumY3 ?? 0);
      }
      if (!cohortDone && cohortTest.look(day, cohorts)) {
        cohortDone = true;
        cohortHits++;
      }
      if (!pooledDone && pooledTest.look(day, [pooled])) {
        pooledDone = true;
        pooledHits++;
      }
    }
  }
  const perStage = PLAN.stages.map((s) => Math.round(unitsPerDay * s.reach).toLocaleString('en')).join(' → ');
  const note = `${unitsPerDay.toLocaleString('en')} units/day assigned at random (treatment ≈ ${perStage} a day by stage); per-arm sums drawn exactly (binomial split, normal sums)`;
  const label = `${unitsPerDay.toLocaleString('en')} units/day`;
  return [
    {
      ...atMost(
        `3. per-unit assignment, ${label}: cohort estimator, split 1→10→50%, baseline ×3`,
        cohortHits / reps,
        ALPHA_PER_METRIC,
        reps,
      ),
      note,
    },
    {
      scenario: `3. per-unit assignment, ${label}: same data pooled without cohorts (contrast)`,
      target: 'shows the bias cohorts remove',
      compareTo: ALPHA_PER_METRIC,
      measured: pooledHits / reps,
      mcse: mcseAt(pooledHits / reps, reps),
      pass: null,
      unit: 'probability',
      note,
    },
  ];
}

/**
 * One rollback test of a higher-is-worse mean, looked at daily through the library's gating statistic, with
 * boundaries from the tree of the planned fractions (the random daily split moves N by about 0.1%, which moves
 * a boundary by far less than the Monte Carlo error).
 */
class SingleTest {
  private node: BoundaryNode | null = null;

  constructor(private readonly tree: BoundaryTree) {}

  /** Takes the look of `day` at the cohorts; true when it crosses the boundary. */
  look(day: number, cohorts: CohortStats[]): boolean {
    const estimate = combineCohorts('mean', cohorts);
    if (estimate === null) return false;
    const gating = gatingStatistic({ kind: 'mean', cohorts, estimate, direction: 'higher_is_worse' });
    this.node = this.tree.step(this.node, day, gating.minimum.met);
    return crosses(this.node, gating.zHarm);
  }
}

/** Scenario 4: sequential Dirichlet-multinomial SRM test, A/A, 14 daily checks across the three stages. */
/** Scenario 4: sequential Dirichlet-multinomial SRM test, A/A, 14 daily checks across the three stages. */
export function srmFalseAlarms(reps: number, seed: number): Row[] {
  const rng = new Rng(seed);
  let alarms = 0;
  for (let rep = 0; rep < reps; rep++) {
    let state = createSrmState();
    for (let day = 1; day <= PLAN.days; day++) {
      const stage = stageOf(day);
      const reach = PLAN.stages[stage]?.reach ?? 0;
      const nT = rng.binomial(PLAN.unitsPerDay, reach);
      state = updateSrm(state, {
        stage: String(stage),
        expected: [reach, 1 - reach],
        counts: [nT, PLAN.unitsPerDay - nT],
      });
      if (state.pValue < DEFAULT_SRM_THRESHOLD) {
        alarms++;
        break;
      }
    }
  }
  return [
    {
      ...atMost('4. SRM A/A false alarm, 14 checks', alarms / reps, DEFAULT_SRM_THRESHOLD, reps),
      note: 'exact binomial split counts',
    },
  ];
}

/**
 * Exact detection probability by `day` of the arcsine statistic (the recursion): its z has mean
 * 2·δ·√N_k for an arcsine difference δ, so it has the canonical joint distribution on the N scale; boundaries
 * from the planned fractions with every look spending.
 */
function exactArcsineDetection(p: number, effect: number, day: number): number {
  const units = plannedEffectiveUnits(1);
  const nMax = plannedMaxUnits();
  const fractions = units.map((n) => n / nMax);
  const upper = groupSequentialBoundaries({
    alpha: ALPHA_PER_METRIC,
    spending: ROLLBACK_SPENDING,
    informationFractions: fractions,
  });
  const delta = Math.asin(Math.sqrt(p * (1 + effect))) - Math.asin(Math.sqrt(p));
  const res = crossingProbabilities({
    upper,
    informationFractions: fractions,
    drift: 2 * delta * Math.sqrt(nMax),
  });
  return res.cumulativeUpper[day - 1] ?? Number.NaN;
}

/**
 * Scenario 6: power of the rollback test (arcsine statistic) on a 2% crash rate and a 0.1% fatal-error rate,
 * G = 6, with the exact recursion value of each beside it; and scenario 9 in simulation: a regression that
 * raises the treatment variance (crash 2% → 15% from the first day of the 10% stage).
 */
export function regressionDetection(reps: number, seed: number): Row[] {
  const crash = bernoulliModel('crash 2%', 0.02);
  const fatal = bernoulliModel('fatal 0.1%', 0.001);
  const cases = [
    { model: crash, effect: 0.25, day: 2, target: 0.85, label: 'crash 2%: +25% by end of 1% stage (day 2)' },
    { model: crash, effect: 0.05, day: 5, target: 0.73, label: 'crash 2%: +5% by end of 10% stage (day 5)' },
    { model: crash, effect: 0.02, day: 14, target: 0.95, label: 'crash 2%: +2% by day 14' },
    { model: fatal, effect: 1, day: 2, target: 0.55, label: 'fatal 0.1%: +100% by day 2' },
  ];
  const rows: Row[] = [];
  cases.forEach((c, i) => {
    const r = simulateRollout({ reps, seed: seed + i, models: [c.model], effects: [c.effect] });
    const measured = (r.rolledBackByDay[0]?.[c.day - 1] ?? 0) / reps;
    rows.push(atLeast(`6. G = 6, ${c.label}`, measured, c.target, reps));
    rows.push({
      scenario: `6. same, exact (arcsine z, every look spending): ${c.label}`,
      target: 'reference (exact recursion)',
      compareTo: c.target,
      measured: exactArcsineDetection(c.model.controlMean, c.effect, c.day),
      mcse: 0,
      pass: null,
      unit: 'probability',
    });
  });
  const jump = 0.15 / 0.02 - 1;
  const rising = simulateRollout({
    reps,
    seed: seed + cases.length,
    models: [crash],
    effectFrom: { day: 3, effects: [jump] },
  });
  rows.push({
    ...atLeast(
      '9. crash 2% → 15% from the 10% stage (day 3): rolled back by day 3',
      (rising.rolledBackByDay[0]?.[2] ?? 0) / reps,
      0.99,
      reps,
    ),
    note: 'information is N = Σ n_T·n_C/(n_T + n_C), so the rise in the treatment variance cannot move t backwards; the replay through decide() is packages/rollout/src/rising-variance.test.ts',
  });
  return rows;
}

/** Relative margins sized so the plan's information gives each guardrail power 1 − β/G (ρ = 2, α = 0.05). */
export function plannedMargins(models: MetricModel[]): number[] {
  const units = plannedEffectiveUnits(1);
  const nMax = plannedMaxUnits();
  const fractions = units.map((n) => n / nMax);
  const unitMargin = requiredInformation({
    margin: 1,
    alpha: NI_ALPHA,
    power: 1 - NI_BETA / GUARDRAILS,
    spending: NI_SPENDING,
    informationFractions: fractions,
  });
  // Information of the plan for a metric with per-unit variance σ² is N_max/σ².
  return models.map(
    (m) => Math.sqrt((unitMargin.maxInformation * m.unitVariance.control) / nMax) / Math.abs(m.controlMean),
  );
}

const NI_BETA = 0.2;

/** Scenario 7: the non-inferiority gate at harm = margin and at no harm. */
export function nonInferiority(reps: number, seed: number): Row[] {
  const models = guardrailModels();
  const margins = plannedMargins(models);
  const harmIndex = 1; // the 2% crash rate carries harm equal to its margin
  const effects = models.map(
    (m, i) => (i === harmIndex ? (margins[i] as number) : 0) * (m.direction === 'higher_is_worse' ? 1 : -1),
  );
  const atMargin = simulateRollout({ reps, seed, models, margins, effects });
  const noHarm = simulateRollout({ reps, seed: seed + 1, models, margins });
  const allPass = noHarm.allNonInferior / reps;
  return [
    {
      ...atMost('7. NI: crash harm = margin → advance to 100%', atMargin.advanced / reps, NI_ALPHA, reps),
      note: `relative margins ${margins.map((x) => x.toPrecision(2)).join(', ')}`,
    },
    {
      // Reported, not gated: item 7 gates the advance to 100% (the row above). This one shows the single
      // guardrail's non-inferiority test alone, whose relative margin is converted with the estimated control mean.
      ...atMost(
        '7. NI: that guardrail declared non-inferior (info)',
        (atMargin.nonInferior[harmIndex] ?? 0) / reps,
        NI_ALPHA,
        reps,
      ),
      pass: null,
    },
    {
      ...atLeast('7. NI: no harm, planned information → all six shown non-inferior', allPass, 0.8, reps),
      note: `per guardrail ${noHarm.nonInferior.map((x) => (x / reps).toFixed(3)).join(', ')} (each planned at 1 − β/G = ${(1 - NI_BETA / GUARDRAILS).toFixed(3)})`,
    },
    {
      scenario: '7. NI: no harm → all six non-inferior and no false rollback (advance to 100%)',
      target: 'reported (≈ the row above × (1 − family-wise false rollback))',
      compareTo: 0.8,
      measured: noHarm.advanced / reps,
      mcse: mcseAt(noHarm.advanced / reps, reps),
      pass: null,
      unit: 'probability',
    },
  ];
}

/** Scenario 8: cost of extending boundaries by one look (up to 60 looks), and bit-identity. */
export function boundaryBench(now: () => number): Row[] {
  const t = Array.from({ length: 60 }, (_, i) => ((i + 1) / 60) ** 2);
  const design = { alpha: ALPHA_PER_METRIC, spending: ROLLBACK_SPENDING };
  let worst = 0;
  for (let repeat = 0; repeat < 3; repeat++) {
    let state = createBoundaryState(design);
    for (const x of t) {
      const start = now();
      state = extendBoundaries(JSON.parse(JSON.stringify(state)), x).state;
      worst = Math.max(worst, now() - start);
    }
  }
  const a = groupSequentialBoundaries({ ...design, informationFractions: t });
  const b = groupSequentialBoundaries({ ...design, informationFractions: t });
  let state = createBoundaryState(design);
  const resumed = t.map((x) => {
    const next = extendBoundaries(JSON.parse(JSON.stringify(state)), x);
    state = next.state;
    return next.boundary;
  });
  const identical = a.every((x, i) => Object.is(x, b[i]) && Object.is(x, resumed[i]));
  return [
    {
      scenario: '8. extend boundaries by one look, worst of 60 looks × 3 (CPU time, incl. JSON round trip)',
      target: '< 50 ms',
      compareTo: 50,
      measured: worst,
      mcse: 0,
      pass: worst < 50,
      unit: 'ms',
    },
    {
      scenario: '8. identical inputs → bit-identical boundaries (repeat and resumed)',
      target: 'identical',
      compareTo: 1,
      measured: identical ? 1 : 0,
      mcse: 0,
      pass: identical,
      unit: 'boolean',
    },
  ];
}

/** Fixed seeds of the scenarios. */
export const SEEDS = {
  naive: 20_201,
  rollout: 30_301,
  perUnit: 40_401,
  srm: 50_501,
  power: 60_601,
  ni: 70_701,
};

/** Units a day of the small per-unit run, reported for information: 20 treatment units a day in the 1% stage. */
const SMALL_UNITS_PER_DAY = 2_000;

/**
 * Runs every scenario with `reps` replications; the per-unit scenario uses the plan's traffic (1M units a day).
 * The per-metric A/A rows are gated together by the exact binomial test with Holm's correction.
 */
export function runAll(reps: number, now: () => number, unitsPerDay = PLAN.unitsPerDay): Row[] {
  const small = perUnitCohorts(reps, SEEDS.perUnit + 1, SMALL_UNITS_PER_DAY).map((r) => ({
    ...r,
    scenario: r.scenario.replace('3. per-unit', '3. per-unit (info)'),
    pass: null,
    note: `${r.note ?? ''}; 20 treatment units a day in the 1% stage: reported, not gated`,
  }));
  const rows = [
    ...naivePeeking(reps, SEEDS.naive),
    ...falseRollbacks(reps, SEEDS.rollout),
    ...perUnitCohorts(reps, SEEDS.perUnit, unitsPerDay),
    ...small,
    ...srmFalseAlarms(reps, SEEDS.srm),
    ...regressionDetection(reps, SEEDS.power),
    ...nonInferiority(reps, SEEDS.ni),
    ...boundaryBench(now),
  ];
  return applyExactGate(rows, reps);
}
