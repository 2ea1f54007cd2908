/**
 * The live data of one rollout page: the rollout, its decision log and its chart history (read whole once, then
 * only what changed after each one's cursor on every refresh), units per arm and the plan forecast. A failed
 * refresh keeps the last data, reports the error and retries with backoff until the server answers again.
 */
import type { ChartHistory, PlanReply, RolloutView } from '@dimmer/api';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Api } from './api.ts';
import {
  type DecisionDetail,
  fetchDecisionChanges,
  getLiveUnits,
  getPlanForecast,
  getRolloutChart,
  getRolloutDetail,
  type LiveUnits,
  mergeDecisions,
} from './api-admin.ts';
import { backoffDelay } from './backoff.ts';
import { appendChart } from './chart-data.ts';

/** How often a live rollout's page refreshes, in milliseconds. */
export const REFRESH_MS = 5_000;
/** States in which the controller looks, so the page keeps refreshing. */
const LIVE_STATES = ['running', 'paused', 'holding', 'draft'];

export interface LiveRollout {
  detail: RolloutView | undefined;
  /** Newest first. */
  decisions: DecisionDetail[];
  /** Every look of the rollout (downsampled by the server when long); null when the server has no chart. */
  chart: ChartHistory | null;
  units: LiveUnits | null;
  forecast: PlanReply | null;
  /** The error of the last refresh while it keeps failing; undefined once one succeeds. */
  error: unknown;
  /** When the shown data was last fetched (ms since the epoch). */
  fetchedAt: number | null;
  /** When the next retry runs after a failure (ms since the epoch). */
  retryAt: number | null;
  /** Refreshes now (after an action, or from the stale banner). */
  refresh(): void;
}

interface Data {
  detail: RolloutView;
  decisions: DecisionDetail[];
  decisionCursor: string;
  chart: ChartHistory | null;
  units: LiveUnits | null;
  forecast: PlanReply | null;
}

/** Reads optional parts without failing the refresh: an older server may lack the route. */
async function optional<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call();
  } catch {
    return null;
  }
}

/** Loads a rollout and keeps it fresh while it is live; see the module comment. */
export function useLiveRollout(api: Api, id: string): LiveRollout {
  const [data, setData] = useState<Data | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [fetchedAt, setFetchedAt] = useState<number | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [tick, setTick] = useState(0);
  const dataRef = useRef<Data | undefined>(undefined);
  const failures = useRef(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new rollout id starts from nothing
  useEffect(() => {
    dataRef.current = undefined;
    setData(undefined);
    setError(undefined);
    failures.current = 0;
  }, [api, id]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `tick` asks for one more refresh
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const run = async () => {
      const previous = dataRef.current;
      try {
        const detail = await getRolloutDetail(api, id);
        // Only what changed since the last refresh: new entries, and folded holds whose count grew.
        const { changed, cursor } = await fetchDecisionChanges(api, id, previous?.decisionCursor ?? null);
        const chartSince = await optional(() => getRolloutChart(api, id, previous?.chart?.cursor ?? null));
        const chart =
          previous?.chart != null && chartSince !== null
            ? appendChart(previous.chart, chartSince)
            : chartSince;
        const started = detail.state !== 'draft';
        const stateChanged = previous?.detail.state !== detail.state;
        const [units, forecast] = await Promise.all([
          started ? optional(() => getLiveUnits(api, id)) : Promise.resolve(null),
          previous === undefined || stateChanged || detail.state === 'draft'
            ? optional(() => getPlanForecast(api, id))
            : Promise.resolve(previous.forecast),
        ]);
        if (!live) return;
        const decisions = mergeDecisions(previous?.decisions ?? [], changed);
        const next: Data = { detail, decisions, decisionCursor: cursor, chart, units, forecast };
        dataRef.current = next;
        failures.current = 0;
        setData(next);
        setError(undefined);
        setRetryAt(null);
        setFetchedAt(Date.now());
        if (LIVE_STATES.includes(detail.state)) timer = window.setTimeout(run, REFRESH_MS);
      } catch (e) {
        if (!live) return;
        failures.current += 1;
        const wait = backoffDelay(failures.current, { jitter: Math.random() });
        setError(e);
        setRetryAt(Date.now() + wait);
        timer = window.setTimeout(run, wait);
      }
    };
    void run();
    return () => {
      live = false;
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [api, id, tick]);

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return {
    detail: data?.detail,
    decisions: data?.decisions ?? [],
    chart: data?.chart ?? null,
    units: data?.units ?? null,
    forecast: data?.forecast ?? null,
    error,
    fetchedAt,
    retryAt,
    refresh,
  };
}
