/**
 * The live data of one rollout page: the rollout, its whole decision log (then only the new decisions on
 * each refresh), units per arm and the plan forecast, refreshed by the live-page loop of live.ts.
 */
import type { PlanReply, RolloutView } from '@dimmer/api';
import type { Api } from './api.ts';
import {
  type DecisionDetail,
  fetchDecisionsAfter,
  getLiveUnits,
  getPlanForecast,
  getRolloutDetail,
  type LiveUnits,
} from './api-admin.ts';
import { optional, useLive } from './live.ts';

/** States in which the controller looks, so the page keeps refreshing. */
const LIVE_STATES = ['running', 'paused', 'holding', 'draft'];

export interface LiveRollout {
  detail: RolloutView | undefined;
  /** Newest first. */
  decisions: DecisionDetail[];
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
  units: LiveUnits | null;
  forecast: PlanReply | null;
}

async function fetchRollout(api: Api, id: string, previous: Data | undefined): Promise<Data> {
  const detail = await getRolloutDetail(api, id);
  const known = previous?.decisions[0]?.id ?? null;
  const latestId = detail.latestDecision === null ? null : String(detail.latestDecision.id);
  const changed = previous === undefined || latestId !== known;
  const fresh = changed ? await fetchDecisionsAfter(api, id, previous === undefined ? null : known) : [];
  const started = detail.state !== 'draft';
  const stateChanged = previous?.detail.state !== detail.state;
  const [units, forecast] = await Promise.all([
    started ? optional(() => getLiveUnits(api, id)) : Promise.resolve(null),
    previous === undefined || stateChanged || detail.state === 'draft'
      ? optional(() => getPlanForecast(api, id))
      : Promise.resolve(previous.forecast),
  ]);
  return { detail, decisions: [...fresh, ...(previous?.decisions ?? [])], units, forecast };
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
    units: live.data?.units ?? null,
    forecast: live.data?.forecast ?? null,
    error: live.error,
    fetchedAt: live.fetchedAt,
    retryAt: live.retryAt,
    refresh: live.refresh,
  };
}
