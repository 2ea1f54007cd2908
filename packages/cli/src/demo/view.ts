/**
 * Drawing the demo: a live frame (a progress bar per rollout with its stage and reach, and each guardrail's
 * current estimate) redrawn in place on a terminal, plain lines for each applied decision otherwise, and the
 * closing summary with every decision's evidence.
 */
import { formatDuration, formatNumber, formatPercent, formatTable, NONE } from '../output.ts';
import { percentileName } from '../rollout-view.ts';
import type {
  DemoDecision,
  DemoFrame,
  DemoRolloutSummary,
  DemoSummary,
  GuardrailEstimate,
  RolloutProgress,
} from './model.ts';

/** Width of a progress bar, in characters. */
const BAR_WIDTH = 30;
/** ANSI: move to the start of the line `n` lines up, and clear to the end of the screen. */
export function ansiRewind(lines: number): string {
  return lines > 0 ? `\u001b[${lines}F\u001b[J` : '';
}

const STATUS_TEXT: Record<string, string> = {
  running: 'running',
  holding: 'holding (final stage, holdback kept on control)',
  completed: 'completed',
  rolled_back: 'ROLLED BACK',
  paused: 'paused',
  draft: 'draft',
};

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `[████████░░░░]`: the treatment reach as a bar, with `|` marking the next stage's reach. */
export function progressBar(reach: number, nextReach: number | undefined): string {
  const cells = [...'░'.repeat(BAR_WIDTH)];
  const filled = Math.round((Math.max(0, Math.min(100, reach)) / 100) * BAR_WIDTH);
  for (let i = 0; i < filled; i++) cells[i] = '█';
  if (nextReach !== undefined && nextReach > reach) {
    const at = Math.min(BAR_WIDTH - 1, Math.round((nextReach / 100) * BAR_WIDTH));
    if (at >= filled) cells[at] = '|';
  }
  return `[${cells.join('')}]`;
}

/** A guardrail's estimate in one cell: relative lift with its interval, or why there is none yet. */
export function estimateText(m: GuardrailEstimate | undefined): string {
  if (m === undefined) return 'waiting for the first look';
  if (m.relativeLift === null) return m.status === 'no_data' ? 'no data yet' : 'too few units yet';
  const interval =
    m.relativeLiftInterval === null
      ? ''
      : ` [${formatPercent(m.relativeLiftInterval[0], true)}, ${formatPercent(m.relativeLiftInterval[1], true)}]`;
  return `${formatPercent(m.relativeLift, true)}${interval}`;
}

function verdictText(m: GuardrailEstimate | undefined): string {
  if (m === undefined) return '';
  if (m.harmDetected) return 'HARM';
  if (m.canary?.triggered) return 'CANARY HARM';
  const margin = m.margin === null ? '' : ` (margin ${formatPercent(m.margin)})`;
  if (m.verdict === 'non_inferior') return `non-inferior${margin}`;
  return `${m.verdict ?? m.status.replace('_', ' ')}${m.verdict === null ? '' : margin}`;
}

function stageText(r: RolloutProgress): string {
  return `stage ${Math.min(r.stageIndex + 1, r.stageCount)}/${r.stageCount}`;
}

function rolloutBlock(r: RolloutProgress, guardrails: readonly string[]): string[] {
  const next = r.status === 'running' ? r.stageReaches[r.stageIndex + 1] : undefined;
  const lines = [
    `${r.flag}  (${r.story})`,
    `  ${progressBar(r.reach, next)} ${formatNumber(r.reach).padStart(3)}%  ${stageText(r)}  ${STATUS_TEXT[r.status] ?? r.status}`,
  ];
  const d = r.latest;
  if (d !== undefined) lines.push(`  last look: ${d.action} (${d.rule}): ${d.reason}`);
  const width = Math.max(...guardrails.map((g) => g.length));
  for (const g of guardrails) {
    const m = d?.metrics[g];
    lines.push(`    ${g.padEnd(width)}  ${estimateText(m).padEnd(26)} ${verdictText(m)}`.trimEnd());
  }
  return lines;
}

/** Terminal width assumed when the stream does not say, in characters. */
export const DEFAULT_COLUMNS = 80;

/**
 * The live frame: simulated time and traffic so far, then each rollout's bar, last look and guardrails. Every
 * line is cut to `columns - 1` characters so none wraps and the frame can be redrawn in place.
 */
export function formatFrame(
  frame: DemoFrame,
  guardrails: readonly string[],
  columns = DEFAULT_COLUMNS,
): string {
  const lines = [
    `Simulated ${formatDuration(frame.elapsedMs)}: ${formatNumber(frame.users)} users, ${formatNumber(frame.events)} events`,
    'Guardrails: treatment vs control (relative), interval of the deciding test (log-ratio), verdict',
    '',
  ];
  for (const r of frame.rollouts) lines.push(...rolloutBlock(r, guardrails), '');
  return `${lines.map((l) => truncate(l, Math.max(20, columns - 1))).join('\n')}\n`;
}

function reachMove(d: DemoDecision, r: RolloutProgress): string {
  if (d.action === 'rollback') return `${formatNumber(d.reach)}% → 0%`;
  if (d.action === 'advance' && d.toStage !== null)
    return `${formatNumber(d.reach)}% → ${formatNumber(r.stageReaches[d.toStage] ?? Number.NaN)}%`;
  return `${formatNumber(d.reach)}%`;
}

/** One plain line for an applied decision (the view when stdout is not a terminal). */
export function formatDecisionLine(d: DemoDecision, r: RolloutProgress): string {
  return `[+${formatDuration(d.elapsedMs)}] ${r.flag}: ${d.action} ${reachMove(d, r)} (${d.rule}). ${d.reason}\n`;
}

function intervalText(pair: [number, number] | null, percent: boolean): string {
  if (pair === null) return NONE;
  const f = percent ? (x: number) => formatPercent(x, true) : (x: number) => formatNumber(x);
  return `[${f(pair[0])}, ${f(pair[1])}]`;
}

/** The evidence of one decision: per guardrail the arms, the difference with its interval, the lift, the verdict. */
export function formatEvidence(d: DemoDecision): string {
  const arm = (value: number | null, n: number | null, q: number | undefined) =>
    value === null
      ? NONE
      : `${q === undefined ? '' : `${percentileName(q)} `}${formatNumber(value)} (n=${formatNumber(n)})`;
  const rows = Object.entries(d.metrics).map(([key, m]) => [
    key,
    // A quantile guardrail shows each arm's quantile; its difference and lift are relative (Q_T/Q_C − 1).
    arm(m.quantile?.control ?? m.meanControl, m.nControl, m.quantile?.q),
    arm(m.quantile?.treatment ?? m.meanTreatment, m.nTreatment, m.quantile?.q),
    formatNumber(m.delta),
    intervalText(m.interval, false),
    m.relativeLift === null
      ? NONE
      : `${formatPercent(m.relativeLift, true)} ${intervalText(m.relativeLiftInterval, true)}`,
    verdictText(m),
  ]);
  if (rows.length === 0) return '';
  return formatTable(
    ['guardrail', 'control', 'treatment', 'difference', 'interval', 'lift', 'verdict'],
    rows,
  );
}

const FINAL_TEXT: Record<string, (s: DemoRolloutSummary) => string> = {
  holding: (s) =>
    `holding at ${formatNumber(s.finalState.reach)}% (the holdback stays on control for long-term measurement)`,
  completed: (s) => `completed at ${formatNumber(s.finalState.reach)}%`,
  rolled_back: (s) => `rolled back to 0% from stage ${s.finalState.stage + 1}`,
};

function rolloutSummary(s: DemoRolloutSummary): string {
  const final =
    FINAL_TEXT[s.finalState.status]?.(s) ?? `${s.finalState.status} at ${formatNumber(s.finalState.reach)}%`;
  const parts = [`${s.flag}  (${s.story})\n  Result: ${final}.\n`];
  if (s.stagesPassed.length > 0)
    parts.push(
      `  Stages passed: ${s.stagesPassed.map((p) => `${formatNumber(p.reach)}% → ${formatNumber(p.toReach)}% at +${formatDuration(p.elapsedMs)}`).join(', ')}\n`,
    );
  parts.push('\n  Decisions (applied actions and every change of rule):\n');
  const table = formatTable(
    ['time', 'action', 'rule', 'at', 'reason'],
    s.decisions.map((d) => [
      `+${formatDuration(d.elapsedMs)}`,
      d.applied || d.action === 'hold' ? d.action : `${d.action} (recommended)`,
      d.rule,
      `stage ${d.stage + 1}, ${formatNumber(d.reach)}%`,
      d.reason,
    ]),
  );
  parts.push(
    table
      .split('\n')
      .map((l) => (l === '' ? l : `    ${l}`))
      .join('\n'),
  );
  if (s.endedBy !== null) {
    parts.push(
      `\n  Evidence of the decisive look (+${formatDuration(s.endedBy.elapsedMs)}, ${s.endedBy.action}, rule ${s.endedBy.rule}):\n`,
    );
    parts.push(
      formatEvidence(s.endedBy)
        .split('\n')
        .map((l) => (l === '' ? l : `    ${l}`))
        .join('\n'),
    );
  }
  return parts.join('');
}

/** The closing summary: how each rollout ended, its decisions, and the evidence of the decisive look. */
export function formatSummary(summary: DemoSummary): string {
  const head = summary.finished
    ? `Done: ${formatDuration(summary.simulatedMs)} of simulated traffic (${formatNumber(summary.users)} users, ${formatNumber(summary.events)} events) in ${(summary.realMs / 1000).toFixed(1)} s.`
    : `Stopped after ${formatDuration(summary.simulatedMs)} of simulated traffic (${formatNumber(summary.users)} users) before every rollout came to rest.`;
  const dropped =
    summary.droppedEvents > 0
      ? `\nWarning: the SDK dropped ${formatNumber(summary.droppedEvents)} events it could not deliver.`
      : '';
  return `${head}${dropped}\n\n${summary.rollouts.map(rolloutSummary).join('\n')}`;
}
