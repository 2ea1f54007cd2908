/**
 * Hash routing (`#/flags/new-checkout`): the dashboard works from any static host and never collides with
 * server paths such as `/metrics` (Prometheus) or `/api`.
 */
import { useSyncExternalStore } from 'react';

export type Route =
  | { page: 'flags' }
  | { page: 'flag-new' }
  | { page: 'flag'; key: string }
  | { page: 'flag-edit'; key: string }
  | { page: 'rollouts' }
  | { page: 'rollout'; id: string }
  | { page: 'experiments' }
  | { page: 'experiment'; id: string }
  | { page: 'surfaces' }
  | { page: 'surface-new' }
  | { page: 'surface'; key: string }
  | { page: 'metrics' }
  | { page: 'metric-new' }
  | { page: 'metric'; key: string }
  | { page: 'segments' }
  | { page: 'segment-new' }
  | { page: 'segment'; key: string }
  | { page: 'environments' }
  | { page: 'audit' }
  | { page: 'keys' }
  | { page: 'playground'; flag?: string }
  | { page: 'not-found'; path: string };

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Parses a location hash (`#/flags/x/edit`) into a route; an empty hash is the flags list. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  const [pathname = '', search = ''] = path.split('?');
  const parts = pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decode);
  const params = new URLSearchParams(search);
  const [first, second, third] = parts;
  if (first === undefined || (first === 'flags' && second === undefined)) return { page: 'flags' };
  if (first === 'new-flag' && second === undefined) return { page: 'flag-new' };
  if (first === 'flags' && second !== undefined && third === undefined) return { page: 'flag', key: second };
  if (first === 'flags' && second !== undefined && third === 'edit' && parts.length === 3)
    return { page: 'flag-edit', key: second };
  if (first === 'rollouts' && second === undefined) return { page: 'rollouts' };
  if (first === 'rollouts' && second !== undefined && third === undefined)
    return { page: 'rollout', id: second };
  if (first === 'experiments' && second === undefined) return { page: 'experiments' };
  if (first === 'experiments' && second !== undefined && third === undefined)
    return { page: 'experiment', id: second };
  if (
    parts.length === 1 &&
    (first === 'surfaces' ||
      first === 'metrics' ||
      first === 'segments' ||
      first === 'environments' ||
      first === 'audit' ||
      first === 'keys')
  )
    return { page: first };
  if (parts.length === 2 && second !== undefined) {
    const editable = { metrics: 'metric', surfaces: 'surface', segments: 'segment' } as const;
    if (first === 'metrics' || first === 'surfaces' || first === 'segments') {
      const page = editable[first];
      return second === 'new' ? { page: `${page}-new` } : { page, key: second };
    }
  }
  if (first === 'playground' && parts.length === 1) {
    const flag = params.get('flag');
    return flag === null ? { page: 'playground' } : { page: 'playground', flag };
  }
  return { page: 'not-found', path: pathname };
}

/** The hash link of a route (`{ page: 'flag', key: 'x' }` → `#/flags/x`). */
export function href(route: Route): string {
  switch (route.page) {
    case 'flags':
      return '#/flags';
    case 'flag-new':
      return '#/new-flag';
    case 'flag':
      return `#/flags/${encodeURIComponent(route.key)}`;
    case 'flag-edit':
      return `#/flags/${encodeURIComponent(route.key)}/edit`;
    case 'rollouts':
      return '#/rollouts';
    case 'rollout':
      return `#/rollouts/${encodeURIComponent(route.id)}`;
    case 'experiment':
      return `#/experiments/${encodeURIComponent(route.id)}`;
    case 'metric-new':
      return '#/metrics/new';
    case 'metric':
      return `#/metrics/${encodeURIComponent(route.key)}`;
    case 'surface-new':
      return '#/surfaces/new';
    case 'surface':
      return `#/surfaces/${encodeURIComponent(route.key)}`;
    case 'segment-new':
      return '#/segments/new';
    case 'segment':
      return `#/segments/${encodeURIComponent(route.key)}`;
    case 'playground':
      return route.flag === undefined
        ? '#/playground'
        : `#/playground?flag=${encodeURIComponent(route.flag)}`;
    case 'not-found':
      return '#/flags';
    default:
      return `#/${route.page}`;
  }
}

/** Navigates to a route (adds a history entry). */
export function navigate(route: Route): void {
  window.location.hash = href(route);
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return parseRoute(hash);
}
