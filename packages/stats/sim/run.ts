// `npm run sim:stats [-- --reps N] [--json]`: the statistics acceptance simulation (statistics.md items 2–9).
import { runQuantileScenarios } from './quantile-scenarios.ts';
import { type Row, runAll } from './scenarios.ts';

const DEFAULT_REPS = 40_000;

function parseArgs(argv: string[]): { reps: number; json: boolean } {
  let reps = DEFAULT_REPS;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') json = true;
    else if (a === '--reps') reps = Number(argv[++i]);
    else if (a?.startsWith('--reps=')) reps = Number(a.slice('--reps='.length));
    else throw new Error(`unknown option ${a}; usage: run.ts [--reps N] [--json]`);
  }
  if (!(Number.isInteger(reps) && reps > 0)) throw new Error('--reps must be a positive integer');
  return { reps, json };
}

function format(row: Row): string[] {
  const value =
    row.unit === 'ms'
      ? `${row.measured.toFixed(2)} ms`
      : row.unit === 'boolean'
        ? row.measured
          ? 'yes'
          : 'no'
        : row.measured.toFixed(4);
  const mcse = row.unit === 'probability' ? row.mcse.toFixed(4) : '—';
  let pass = row.pass === null ? 'info' : row.pass ? 'pass' : 'FAIL';
  if (row.exactGate) pass += ` (p = ${row.exactGate.pValue.toPrecision(3)})`;
  return [row.scenario, row.target, value, mcse, pass];
}

const { reps, json } = parseArgs(process.argv.slice(2));
const started = performance.now();
// Boundary extension cost is measured in CPU time, so other work on a shared machine does not count against it.
const cpuMs = () => process.cpuUsage().user / 1000;
const rows = [...runAll(reps, cpuMs), ...runQuantileScenarios(reps)];
const seconds = (performance.now() - started) / 1000;
const header = ['scenario', 'target', 'measured', 'MC error', 'result'];
const table = [header, ...rows.map(format)];
const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
console.log(
  `Dimmer statistics simulation: ${reps.toLocaleString('en')} replications per scenario, fixed seeds`,
);
for (const [i, r] of table.entries()) {
  console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
// A data model's note is printed once, under the first row that names it.
const seen = new Set<string>();
const notes = rows.flatMap((r) => {
  if (!r.note || seen.has(r.note)) return [];
  seen.add(r.note);
  return [`${r.scenario}: ${r.note}`];
});
for (const n of notes) console.log(`note  ${n}`);
console.log(
  'note  information is N = Σ n_T·n_C/(n_T + n_C) per cohort; boundaries come from the library per pattern of spending looks; z is the gating statistic (arcsine for proportions, skew-corrected for means and ratios).',
);
console.log(
  'note  per-metric A/A rows: exact binomial p-value of "rate ≤ α/G" given the count, Holm over all per-metric rows at 5%.',
);
console.log(`${rows.filter((r) => r.pass === false).length} failing, ${seconds.toFixed(1)} s`);
if (json) {
  const figures = rows.map((r) => ({
    name: r.scenario,
    value: r.measured,
    unit: r.unit,
    compare_to: r.compareTo,
    ratio: r.compareTo !== 0 ? r.measured / r.compareTo : null,
    target: r.target,
    pass: r.pass,
    mcse: r.mcse,
    ...(r.exactGate ? { exact_p: r.exactGate.pValue, holm_rejected: r.exactGate.holmRejected } : {}),
  }));
  console.log(JSON.stringify({ bench: 'stats-sim', figures }));
}
if (rows.some((r) => r.pass === false)) process.exitCode = 1;
