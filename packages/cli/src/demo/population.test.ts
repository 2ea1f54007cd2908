import { describe, expect, it } from 'vitest';
import { BASELINE, seededRandom, simulateVisit } from './population.ts';

describe('demo population', () => {
  it('sends the same visits for the same seed and different ones for another', () => {
    const visits = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 50 }, () => simulateVisit(random, BASELINE, 240_000));
    };
    expect(visits(7)).toEqual(visits(7));
    expect(visits(7)).not.toEqual(visits(8));
  });

  it('keeps every event within the visit span, in time order, with a latency on each request', () => {
    const random = seededRandom(1);
    for (let i = 0; i < 200; i++) {
      const events = simulateVisit(random, BASELINE, 1_000);
      const sessions = events.filter((e) => e.name === 'session_start').length;
      expect(sessions).toBeGreaterThanOrEqual(1);
      expect(events.filter((e) => e.name === 'request').length).toBeGreaterThanOrEqual(sessions);
      for (const e of events) {
        expect(e.offsetMs).toBeGreaterThanOrEqual(0);
        expect(e.offsetMs).toBeLessThan(1_000);
        if (e.name === 'request') expect(e.value).toBeGreaterThan(0);
      }
      expect(events.map((e) => e.offsetMs)).toEqual([...events.map((e) => e.offsetMs)].sort((a, b) => a - b));
    }
  });

  it('produces crash rates near the behaviour asked for', () => {
    const random = seededRandom(3);
    const crashed = (rate: number) => {
      let n = 0;
      for (let i = 0; i < 20_000; i++)
        if (
          simulateVisit(random, { ...BASELINE, crashRate: rate }, 1_000).some((e) => e.name === 'app_crash')
        )
          n++;
      return n / 20_000;
    };
    expect(crashed(0.02)).toBeCloseTo(0.02, 2);
    expect(crashed(0.06)).toBeCloseTo(0.06, 2);
  });
});
