import { describe, expect, it } from 'vitest';
import { href, parseRoute, type Route } from './router.ts';

describe('hash routes', () => {
  it('round-trips every page through href and parseRoute', () => {
    const routes: Route[] = [
      { page: 'flags' },
      { page: 'flag-new' },
      { page: 'flag', key: 'new' },
      { page: 'flag', key: 'a/b c' },
      { page: 'flag-edit', key: 'checkout.v2' },
      { page: 'rollouts' },
      { page: 'rollout', id: 'ro_1' },
      { page: 'experiments' },
      { page: 'experiment', id: 'ex_checkout button' },
      { page: 'surfaces' },
      { page: 'surface-new' },
      { page: 'surface', key: 'checkout' },
      { page: 'metrics' },
      { page: 'metric-new' },
      { page: 'metric', key: 'crash_rate' },
      { page: 'segments' },
      { page: 'segment-new' },
      { page: 'segment', key: 'beta-testers' },
      { page: 'environments' },
      { page: 'audit' },
      { page: 'keys' },
      { page: 'playground' },
      { page: 'playground', flag: 'x&y' },
    ];
    for (const route of routes) expect(parseRoute(href(route))).toEqual(route);
  });
  it('treats an empty hash as the flags list and unknown paths as not found', () => {
    expect(parseRoute('')).toEqual({ page: 'flags' });
    expect(parseRoute('#/nope/x')).toEqual({ page: 'not-found', path: '/nope/x' });
  });
});
