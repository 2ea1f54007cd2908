import { describe, expect, it } from 'vitest';
import {
  equalWeights,
  experimentBanner,
  experimentRows,
  sampleProgress,
  srmStatus,
} from './experiment-verdict.ts';
import { sampleExperimentView, sampleShipResults } from './test-experiment.ts';

describe('experimentBanner', () => {
  it('says the recommendation, the winner and the reason, and that shipping is next', () => {
    const banner = experimentBanner(sampleExperimentView(), sampleShipResults());
    expect(banner.tone).toBe('good');
    expect(banner.headline).toContain('Running at 20% coverage since 10:00:00 UTC');
    expect(banner.headline).toContain('Recommendation: ship “green”');
    // The reason quotes the results table's numbers (the deciding test's interval), the server's note follows.
    const [win, guard] = experimentRows(sampleExperimentView(), sampleShipResults());
    expect(banner.reason).toContain(`significantly better on conversion 11% vs 10%, ${win?.relative}`);
    expect(banner.reason).toContain(
      `Every guardrail is within its margin: crash_rate 1.98% vs 2%, ${guard?.relative}`,
    );
    expect(banner.note).toBe(sampleShipResults().reason);
    expect(banner.next).toContain('Ship “green”');
  });

  it('names who shipped, the rollout that took over, and who stopped', () => {
    const shipped = {
      ...sampleExperimentView(),
      status: 'shipped' as const,
      shippedVariant: 'green',
      rollout: 'ro_green',
      history: [
        ...sampleExperimentView().history,
        {
          at: '2026-12-03T11:00:00.000Z',
          kind: 'action' as const,
          action: 'ship' as const,
          rule: null,
          actor: 'bob',
          coverage: 20,
        },
      ],
    };
    const banner = experimentBanner(shipped, null);
    expect(banner.headline).toBe(
      'Shipped “green” by bob at 11:00:00 UTC: rollout ro_green now takes it to everyone, starting with the units that already had it.',
    );
    const stopped = experimentBanner({ ...sampleExperimentView(), status: 'stopped' }, null);
    expect(stopped.headline).toContain('without a winner');
  });

  it('explains why a running experiment continues and what to do', () => {
    const results = {
      ...sampleShipResults(),
      recommendation: 'continue' as const,
      rule: 'min_units',
      reason: 'Every arm needs 1,000 units before the sample size is planned; so far control 12, green 9.',
      winner: null,
    };
    const banner = experimentBanner(sampleExperimentView(), results);
    expect(banner.tone).toBe('info');
    expect(banner.headline).toContain('Recommendation: continue.');
    expect(banner.reason).toContain('Every arm needs 1,000 units');
    expect(banner.next).toMatch(/^Wait/);
  });
});

describe('experimentRows', () => {
  it('puts success metrics first, with both values and the superiority test’s log-ratio interval', () => {
    const rows = experimentRows(sampleExperimentView(), sampleShipResults());
    expect(rows.map((r) => `${r.metric}/${r.variant}`)).toEqual(['conversion/green', 'crash_rate/green']);
    const [win, guard] = rows;
    expect(win).toMatchObject({
      role: 'success',
      verdict: 'better',
      control: '10%',
      treatment: '11%',
      information: '62% of planned',
    });
    expect(win?.test).toContain('superiority test: z 4.2 ≥ 2.4');
    // ln(1.1) ± 2.4 × 0.026/1.1 on the log scale: about +3.8% to +16.6%.
    expect(win?.relative).toMatch(/^\+10% \(\+3\.\d+% to \+16\.\d+%\)$/);
    expect(guard).toMatchObject({ role: 'guardrail', required: true, verdict: 'non-inferior' });
    expect(guard?.test).toContain('non-inferiority test: within the 20% margin');
    expect(guard?.relative).not.toMatch(/-\d{3,}%/);
  });

  it('says when a test passed at an earlier look (a look with no new information has no boundary)', () => {
    const results = sampleShipResults();
    const look = results.metrics.conversion?.green;
    if (look?.summary?.nonInferiority == null) throw new Error('fixture');
    look.summary.nonInferiority = { ...look.summary.nonInferiority, boundary: null };
    const [row] = experimentRows(sampleExperimentView(), results);
    expect(row?.verdict).toBe('better');
    expect(row?.test).toContain('superiority test passed at an earlier look');
    expect(row?.relative).toMatch(/^\+10% \(\+\d/);
  });

  it('shows metrics without data as such', () => {
    const results = sampleShipResults();
    const look = results.metrics.conversion?.green;
    if (look === undefined) throw new Error('fixture');
    results.metrics.conversion = {
      green: { ...look, status: 'no_data', summary: null, superiority: null, verdict: 'no_data' },
    };
    const [row] = experimentRows(sampleExperimentView(), results);
    expect(row).toMatchObject({ verdict: 'no data', test: 'no events yet', control: '—', relative: '—' });
  });
});

describe('srmStatus and sampleProgress', () => {
  it('says whether the split matches the weights', () => {
    expect(srmStatus(sampleShipResults())).toMatchObject({ tone: 'good' });
    const broken = {
      ...sampleShipResults(),
      srm: { pValue: 0.00002, threshold: 0.001, mismatch: true, epochs: [] },
    };
    expect(srmStatus(broken).text).toContain('Sample-ratio mismatch');
    expect(srmStatus(null).tone).toBe('neutral');
    const empty = { ...sampleShipResults(), units: { control: 0, green: 0 } };
    expect(srmStatus(empty).label).toBe('not yet');
  });

  it('estimates the time to the planned sample at the observed traffic', () => {
    // 140,000 units in 2 days: 70,000 a day; 86,000 to go is about 1 d 5 h.
    const progress = sampleProgress(
      sampleExperimentView(),
      sampleShipResults(),
      Date.parse('2026-12-03T10:00:00.000Z'),
    );
    expect(progress.unitsPerDay).toBe(70_000);
    expect(progress.text).toBe(
      '140,000 of 226,000 planned units; at the observed 70,000 new units a day, about 1 d 5 h to go.',
    );
    // Minutes of traffic say nothing about a day's.
    const early = sampleProgress(
      sampleExperimentView(),
      sampleShipResults(),
      Date.parse('2026-12-01T10:20:00Z'),
    );
    expect(early.unitsPerDay).toBeNull();
    expect(early.text).toContain('estimated after the first hour');
    const ended = sampleProgress({ ...sampleExperimentView(), status: 'stopped' }, sampleShipResults(), 0);
    expect(ended.text).toBe('140,000 units took part of 226,000 planned.');
  });

  it('splits 100 into whole equal weights', () => {
    expect(equalWeights(2)).toEqual([50, 50]);
    expect(equalWeights(3)).toEqual([34, 33, 33]);
    expect(equalWeights(0)).toEqual([]);
  });
});
