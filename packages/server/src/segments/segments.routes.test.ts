import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, type Json, sampleFlag, type TestApp } from '../../testing/test-app.ts';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

const beta = { key: 'beta-testers', description: 'Beta', when: { attr: 'plan', op: 'eq', value: 'beta' } };

describe('segments', () => {
  it('creates, reads, replaces and deletes, bumping config versions and shipping segments in snapshots', async () => {
    expect((await t.admin('POST', '/api/v1/segments', beta)).status).toBe(201);
    expect((await t.admin('POST', '/api/v1/segments', beta)).status).toBe(409);
    expect((await t.admin('GET', '/api/v1/segments/beta-testers')).json.when).toEqual(beta.when);
    expect(t.app.dimmer.hub.get('development')?.snapshot.segments).toEqual([
      { key: 'beta-testers', description: 'Beta', when: beta.when },
    ]);
    const replaced = await t.admin('PUT', '/api/v1/segments/beta-testers', {
      when: { attr: 'plan', op: 'in', value: ['beta', 'staff'] },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.json.description).toBeUndefined();
    expect((await t.admin('GET', '/api/v1/segments')).json.segments).toHaveLength(1);
    expect((await t.admin('DELETE', '/api/v1/segments/beta-testers')).status).toBe(204);
    expect((await t.admin('GET', '/api/v1/segments/beta-testers')).status).toBe(404);
    expect(t.app.dimmer.hub.get('production')?.version).toBe(4);
    const audit = await t.admin('GET', '/api/v1/audit?resourceType=segment');
    expect(audit.json.entries.map((e: { action: string }) => e.action)).toEqual([
      'segment.delete',
      'segment.update',
      'segment.create',
    ]);
    expect(audit.json.entries[0].after).toBeNull();
  });

  it('rejects reference cycles and unknown references with paths', async () => {
    await t.admin('POST', '/api/v1/segments', { key: 'a', when: { attr: 'x', op: 'exists' } });
    await t.admin('POST', '/api/v1/segments', { key: 'b', when: { segment: 'a' } });
    const cycle = await t.admin('PUT', '/api/v1/segments/a', { when: { any: [{ segment: 'b' }] } });
    expect(cycle.status).toBe(400);
    expect(cycle.json.error.code).toBe('VALIDATION_FAILED');
    expect(cycle.json.error.details.issues.length).toBeGreaterThan(0);
    const unknown = await t.admin('POST', '/api/v1/segments', { key: 'c', when: { segment: 'zzz' } });
    expect(unknown.status).toBe(400);
    expect((await t.admin('GET', '/api/v1/segments/a')).json.when).toEqual({ attr: 'x', op: 'exists' });
  });

  it('refuses to delete a segment a flag or another segment refers to', async () => {
    await t.admin('POST', '/api/v1/segments', beta);
    await t.admin('POST', '/api/v1/segments', { key: 'wrapper', when: { not: { segment: 'beta-testers' } } });
    const flag = sampleFlag();
    (flag.environments as Json).production.rules[0].when = { all: [{ segment: 'beta-testers' }] };
    expect((await t.admin('POST', '/api/v1/flags', flag)).status).toBe(201);
    const res = await t.admin('DELETE', '/api/v1/segments/beta-testers');
    expect(res.status).toBe(409);
    expect(res.json.error.details).toEqual({ flags: ['new-checkout'], segments: ['wrapper'] });
    expect((await t.admin('GET', '/api/v1/segments/beta-testers')).status).toBe(200);
  });

  it('rejects a key change on replace', async () => {
    await t.admin('POST', '/api/v1/segments', beta);
    const res = await t.admin('PUT', '/api/v1/segments/beta-testers', { ...beta, key: 'other' });
    expect(res.json.error.details.issues[0].path).toBe('key');
  });
});
