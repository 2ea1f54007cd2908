import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DemoSummary } from './demo/model.ts';
import { EXIT_FAILURE, EXIT_OK } from './errors.ts';
import { main } from './main.ts';
import { captureStream, runCli, tempFolder } from './testing.ts';

function rollout(summary: DemoSummary, flag: string) {
  const r = summary.rollouts.find((x) => x.flag === flag);
  if (r === undefined) throw new Error(`no rollout of ${flag} in the summary`);
  return r;
}

describe('dimmer demo', () => {
  it('rolls the healthy change out to 100% minus the holdback and rolls the crashing one back (--fast --json)', async () => {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await main(['demo', '--fast', '--json'], { stdout, stderr, env: {}, cwd: process.cwd() });
    expect(stderr.text).toBe('');
    expect(code).toBe(EXIT_OK);
    const summary = JSON.parse(stdout.text) as DemoSummary;
    expect(summary.finished).toBe(true);
    expect(summary.droppedEvents).toBe(0);

    const healthy = rollout(summary, 'one-page-checkout');
    expect(['holding', 'completed']).toContain(healthy.finalState.status);
    expect(healthy.finalState.reach).toBe(98);
    expect(healthy.stagesPassed.map((s) => s.toReach)).toEqual([20, 50, 98]);
    expect(healthy.endedBy?.action).toBe('advance');
    expect(healthy.decisions.some((d) => d.action === 'rollback')).toBe(false);

    const bad = rollout(summary, 'payment-sheet-v2');
    expect(bad.finalState.status).toBe('rolled_back');
    expect(bad.finalState.reach).toBe(0);
    const ended = bad.endedBy;
    expect(ended?.action).toBe('rollback');
    expect(ended?.applied).toBe(true);
    expect(['deterioration', 'canary_guard']).toContain(ended?.rule);
    expect(ended?.triggeredBy).toContain('crash_rate');
    const crash = ended?.metrics.crash_rate;
    expect(crash?.harmDetected === true || crash?.canary?.triggered === true).toBe(true);
    expect(crash?.relativeLift ?? 0).toBeGreaterThan(0);
    expect(crash?.interval).toHaveLength(2);

    // The tail regression: p99 latency triples while the mean stays put; the p99 guardrail rolls it back.
    const tail = rollout(summary, 'search-cache');
    expect(tail.finalState.status).toBe('rolled_back');
    expect(tail.endedBy?.triggeredBy).toEqual(['request_latency_p99']);
    const p99 = tail.endedBy?.metrics.request_latency_p99;
    expect(p99?.quantile?.q).toBe(0.99);
    expect((p99?.quantile?.treatment ?? 0) / (p99?.quantile?.control ?? 1)).toBeGreaterThan(1.5);
    const mean = tail.endedBy?.metrics.request_latency;
    expect(mean?.harmDetected).toBe(false);
    expect(Math.abs(mean?.relativeLift ?? 1)).toBeLessThan(0.1);
    // The temporary data directory goes away with the server.
    expect(existsSync(summary.server.dataDir)).toBe(false);
  }, 60_000);

  it('prints the set-up, a line per applied decision and the evidence, and refuses a data dir that has a run', async () => {
    const data = tempFolder();
    try {
      const first = await runCli(['demo', '--fast', '--data-dir', data.dir]);
      expect(first.stderr).toBe('');
      expect(first.code).toBe(EXIT_OK);
      expect(first.stdout).toContain('Admin token:  dmr_admin_');
      expect(first.stdout).toMatch(/payment-sheet-v2: rollback \d+% → 0% \((deterioration|canary_guard)\)/);
      expect(first.stdout).toContain('one-page-checkout: advance 50% → 98% (all_clear)');
      expect(first.stdout).toContain('Result: rolled back to 0%');
      expect(first.stdout).toMatch(/crash_rate .*HARM/);
      // Not a terminal: no cursor movement.
      expect(first.stdout).not.toContain('\u001b[');
      expect(existsSync(data.dir)).toBe(true);

      const again = await runCli(['demo', '--fast', '--data-dir', data.dir]);
      expect(again.code).toBe(EXIT_FAILURE);
      expect(again.stderr).toContain('already holds a demo run');
    } finally {
      data.cleanup();
    }
  }, 60_000);

  it('redraws the live view in place on a terminal', async () => {
    const result = await runCli(['demo', '--fast'], { stdout: { isTTY: true, write: () => true } });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout).toMatch(/\u001b\[\d+F\u001b\[J/);
    expect(result.stdout).toContain('[██');
    expect(result.stdout).toContain('ROLLED BACK');
  }, 60_000);

  it('keeps the server running with --keep until the signal', async () => {
    const controller = new AbortController();
    const stdout = captureStream();
    const stderr = captureStream();
    const running = main(['demo', '--fast', '--json', '--keep'], {
      stdout,
      stderr,
      env: {},
      cwd: process.cwd(),
      signal: controller.signal,
    });
    let summary: DemoSummary | undefined;
    try {
      await expect
        .poll(
          () => {
            try {
              summary = JSON.parse(stdout.text) as DemoSummary;
            } catch {
              summary = undefined;
            }
            return summary?.server.kept;
          },
          { timeout: 30_000, interval: 100 },
        )
        .toBe(true);
      const url = summary?.server.url as string;
      const token = summary?.server.adminToken as string;
      const list = await runCli(['rollouts', 'list', '--json'], {
        env: { DIMMER_URL: url, DIMMER_TOKEN: token },
      });
      expect(list.code).toBe(EXIT_OK);
      const states = (JSON.parse(list.stdout) as { rollouts: { id: string; state: string }[] }).rollouts
        .map((r) => r.state)
        .sort();
      expect(states).toEqual(['holding', 'rolled_back', 'rolled_back']);
    } finally {
      controller.abort();
      expect(await running).toBe(EXIT_OK);
    }
    expect(stderr.text).toBe('');
    expect(existsSync(summary?.server.dataDir as string)).toBe(false);
  }, 60_000);
});
