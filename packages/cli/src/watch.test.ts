import type { FetchFn } from '@dimmer/sdk';
import { describe, expect, it } from 'vitest';
import { ANSI_CLEAR } from './commands/rollouts.ts';
import { EXIT_OK } from './errors.ts';
import { runCli } from './testing.ts';

const base = {
  id: 'ro_1',
  flag: 'new-checkout',
  environment: 'production',
  treatment: 'on',
  control: 'off',
  // The contract's flat rollout view (RolloutView): the plan's fields sit beside the state.
  stages: [
    { reach: 1, minDuration: 60_000, minUnitsPerArm: 100 },
    { reach: 50, minDuration: 60_000, minUnitsPerArm: 100 },
    { reach: 100, minDuration: 60_000, minUnitsPerArm: 100 },
  ],
  holdback: 0,
  guardrails: [{ metric: 'crash_rate', margin: 0.02, required: true }],
  mode: 'automatic',
  attempt: 1,
  stageStartedAt: null,
};

/** A server stub: each GET of the rollout returns the next state; evidence and decisions do not exist (404). */
function stubServer(states: { state: string; stage: number; reach: number }[]): {
  fetch: FetchFn;
  calls: () => number;
} {
  let i = 0;
  const fetch: FetchFn = async (url) => {
    if (url.endsWith('/api/v1/rollouts/ro_1')) {
      const state = states[Math.min(i++, states.length - 1)];
      return new Response(JSON.stringify({ ...base, ...state }), { status: 200 });
    }
    return new Response(
      JSON.stringify({ error: { code: 'NOT_FOUND', message: 'Route not found', details: null } }),
      {
        status: 404,
      },
    );
  };
  return { fetch, calls: () => i };
}

const sequence = [
  { state: 'running', stage: 0, reach: 1 },
  { state: 'running', stage: 0, reach: 1 },
  { state: 'running', stage: 1, reach: 50 },
  { state: 'completed', stage: 2, reach: 100 },
];

describe('rollouts status --watch', () => {
  it('prints one block per change when stdout is not a terminal and stops at a final state', async () => {
    const stub = stubServer(sequence);
    const waits: number[] = [];
    const result = await runCli(['rollouts', 'status', 'ro_1', '--watch', '--interval', '2'], {
      env: { DIMMER_TOKEN: 't' },
      fetch: stub.fetch,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(EXIT_OK);
    expect(stub.calls()).toBe(4);
    expect(waits).toEqual([2000, 2000, 2000]);
    const blocks = result.stdout.split(/\n(?=rollout:)/);
    expect(blocks).toHaveLength(3);
    expect(blocks[0]).toMatch(/stage:\s+1 of 3\nreach:\s+1%/);
    expect(blocks[1]).toMatch(/stage:\s+2 of 3\nreach:\s+50%/);
    expect(blocks[2]).toMatch(/status:\s+completed/);
    expect(result.stdout).toContain('Rollout ro_1 is completed; stopped watching.');
    expect(result.stdout).not.toContain(ANSI_CLEAR);
  });

  it('redraws in place on a terminal every poll', async () => {
    const stub = stubServer(sequence);
    const result = await runCli(['rollouts', 'status', 'ro_1', '-w'], {
      env: { DIMMER_TOKEN: 't' },
      fetch: stub.fetch,
      stdout: { write: () => true, isTTY: true },
      sleep: async () => {},
    });
    expect(result.code).toBe(EXIT_OK);
    expect(result.stdout.split(ANSI_CLEAR)).toHaveLength(5);
  });

  it('stops when the signal aborts (Ctrl-C)', async () => {
    const stub = stubServer([{ state: 'running', stage: 0, reach: 1 }]);
    const controller = new AbortController();
    let polls = 0;
    const result = await runCli(['rollouts', 'status', 'ro_1', '--watch'], {
      env: { DIMMER_TOKEN: 't' },
      fetch: stub.fetch,
      signal: controller.signal,
      sleep: async () => {
        if (++polls === 3) controller.abort();
      },
    });
    expect(result.code).toBe(EXIT_OK);
    expect(stub.calls()).toBe(3);
  });

  it('rejects a bad interval as a usage error', async () => {
    const result = await runCli(['rollouts', 'status', 'ro_1', '--watch', '--interval', 'soon'], {
      env: { DIMMER_TOKEN: 't' },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a number of seconds above 0');
  });
});
