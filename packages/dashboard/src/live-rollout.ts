/**
 * The live data of one rollout page: the rollout, its decision log and its chart history (read whole once, then
 * only what changed after each one's cursor on every refresh), units per arm and the plan forecast, refreshed
 * by the live-page loop of live.ts.
 */
import type { ChartHistory, PlanReply, RolloutView } from '@dimmer/api';
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
import { appendChart } from './chart-data.ts';
import { optional, useLive } from './live.ts';

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

async function fetchRollout(api: Api, id: string, previous: Data | undefined): Promise<Data> {
  const detail = await getRolloutDetail(api, id);
  // Only what changed since the last refresh: new entries, and folded holds whose count grew; new chart looks.
  const { changed, cursor } = await fetchDecisionChanges(api, id, previous?.decisionCursor ?? null);
  const chartSince = await optional(() => getRolloutChart(api, id, previous?.chart?.cursor ?? null));
  const chart =
    previous?.chart != null && chartSince !== null ? appendChart(previous.chart, chartSince) : chartSince;
  const started = detail.state !== 'draft';
  const stateChanged = previous?.detail.state !== detail.state;
  const [units, forecast] = await Promise.all([
    started ? optional(() => getLiveUnits(api, id)) : Promise.resolve(null),
    previous === undefined || stateChanged || detail.state === 'draft'
      ? optional(() => getPlanForecast(api, id))
      : Promise.resolve(previous.forecast),
  ]);
  return {
    detail,
    decisions: mergeDecisions(previous?.decisions ?? [], changed),
    decisionCursor: cursor,
    chart,
    units,
    forecast,
  };
}

/** Loads a rollout and keeps it fresh while it is live; see the module comment. */
export function useLiveRollout(api: Api, id: string): LiveRollout {
  const live = useLive<Data>(
    [api, id],
    (previous) => fetchRollout(api, id, previous),
    (data) => LIVE_STATES.includes(data.detail.state),
  );
  return {
    detail: live.data?.detail,
    decisions: live.data?.decisions ?? [],
    chart: live.data?.chart ?? null,
    units: live.data?.units ?? null,
    forecast: live.data?.forecast ?? null,
    error: live.error,
    fetchedAt: live.fetchedAt,
    retryAt: live.retryAt,
    refresh: live.refresh,
  };
}
