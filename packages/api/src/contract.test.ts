import type { Condition, EnvironmentSnapshot as CoreSnapshot, FlagConfig, Segment } from '@dimmer/core';
import { IsSchema, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import {
  AUDIT_RESOURCE_TYPES,
  type EnvironmentSnapshot,
  ErrorBody,
  EventBatch,
  EventsReply,
  FlagChange,
  FlagInput,
  type FlagView,
  OfrepBulkSuccess,
  OfrepSuccess,
  ROUTES,
  RolloutInput,
  RolloutView,
  type RouteContract,
  SegmentInput,
  type SegmentView,
} from './index.ts';

/** The paths of every error a schema reports for a value (`(root)` for the value itself). */
function errorPaths(schema: TSchema, value: unknown): string[] {
  return Compile(schema)
    .Errors(value)
    .map((e) => e.instancePath || '(root)');
}

// Compile-time: documents read from the API feed core's evaluator without casts.
const flagIsCoreFlag = (f: FlagView): FlagConfig => f;
const segmentIsCoreSegment = (s: SegmentView): Segment => ({ key: s.key, when: s.when });
const snapshotIsCore = (s: EnvironmentSnapshot): CoreSnapshot => s;
void [flagIsCoreFlag, segmentIsCoreSegment, snapshotIsCore];

const flag: FlagView = {
  key: 'new-checkout',
  kind: 'boolean',
  description: 'One-page checkout',
  variants: { off: false, on: true },
  defaultVariant: 'off',
  salt: '5eed5a1700000001',
  hashVersion: 1,
  version: 2,
  environments: {
    production: {
      enabled: true,
      overrides: { 'user-1': 'on' },
      rules: [
        {
          id: 'beta',
          when: { all: [{ segment: 'beta' }, { attr: 'plan', op: 'eq', value: 'pro' }] },
          serve: { variant: 'on' },
        },
        {
          id: 'rollout:ro_1',
          rollout: 'ro_1',
          serve: { split: [{ variant: 'on', range: [0, 10_000], arm: 'treatment' }] },
        },
      ],
    },
  },
  archived: false,
  createdAt: '2025-01-01T00:00:01.000Z',
  updatedAt: '2025-01-01T00:00:02.000Z',
};

describe('@dimmer/api schemas', () => {
  it('every exported schema and every route schema compiles', () => {
    const schemas = Object.entries(api).filter(([, value]) => IsSchema(value));
    expect(schemas.length).toBeGreaterThan(60);
    for (const [name, schema] of schemas) expect(() => Compile(schema as TSchema), name).not.toThrow();
    for (const [name, route] of Object.entries(ROUTES) as [string, RouteContract][]) {
      const parts = [
        route.params,
        route.querystring,
        route.body,
        route.reply,
        ...Object.values(route.errors),
      ];
      for (const schema of parts) if (schema != null) expect(() => Compile(schema), name).not.toThrow();
    }
  });

  it('the route table holds every route once, with Fastify paths', () => {
    const routes = Object.values(ROUTES) as RouteContract[];
    const ids = routes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of routes) expect(r.path).toMatch(/^\/[a-z0-9/:_-]*$/);
    expect(ids).toContain('POST /api/v1/rollouts/:id/rollback');
    expect(ids).toContain('POST /ofrep/v1/evaluate/flags/:key');
    expect(ROUTES.createRollout.status).toBe(201);
    expect(ROUTES.deleteSegment.reply).toBeNull();
  });

  it('the audit resource types are every type the server writes', () => {
    expect([...AUDIT_RESOURCE_TYPES].sort()).toEqual([
      'admin_token',
      'client_key',
      'environment',
      'experiment',
      'flag',
      'grant',
      'metric',
      'rollout',
      'segment',
      'session',
      'surface',
    ]);
  });

  it('accepts documents in the shapes the server sends', () => {
    expect(
      errorPaths(FlagChange, {
        flag,
        preview: {
          production: {
            sampled: 10_000,
            changed: 12,
            share: 0.0012,
            transitions: [{ from: 'off', to: 'on', count: 12 }],
          },
        },
      }),
    ).toEqual([]);
    expect(
      errorPaths(ErrorBody, {
        error: {
          code: 'VALIDATION_FAILED',
          message: 'body.key: required',
          details: { issues: [{ path: 'body.key', message: 'required' }] },
        },
      }),
    ).toEqual([]);
    expect(
      errorPaths(EventsReply, {
        batchId: 'b1',
        accepted: 2,
        rejected: [{ index: 2, reason: 'name: expected a string' }],
        duplicate: false,
      }),
    ).toEqual([]);
    expect(
      errorPaths(OfrepSuccess, {
        key: 'banner',
        value: { text: 'Sale' },
        reason: 'UNKNOWN',
        variant: 'sale',
        metadata: { dimmerReason: 'DEFAULT' },
      }),
    ).toEqual([]);
    expect(
      errorPaths(OfrepBulkSuccess, {
        flags: [
          { key: 'a', reason: 'STATIC', value: true },
          { key: 'b', errorCode: 'TARGETING_KEY_MISSING' },
        ],
        metadata: { environment: 'production', version: 3 },
      }),
    ).toEqual([]);
  });

  it('rejects bad requests and names the path of each problem', () => {
    expect(errorPaths(FlagInput, { ...flag, archived: true })).toContain('(root)');
    const badServe = structuredClone(flag) as Record<string, unknown> & typeof flag;
    (badServe.environments.production?.rules[0] as { serve: unknown }).serve = { variants: 'on' };
    const { archived: _a, createdAt: _c, updatedAt: _u, ...document } = badServe;
    expect(errorPaths(FlagInput, document)).toContain('/environments/production/rules/0/serve');
    const badWhen: Condition = { attr: 'plan', op: 'eq' };
    expect(errorPaths(SegmentInput, { key: 'beta', when: { ...badWhen, extra: 1 } })).toContain('/when');
    expect(
      errorPaths(RolloutInput, {
        flag: 'f',
        environment: 'production',
        treatment: 'on',
        control: 'off',
        stages: [{ reach: 'ten' }],
      }),
    ).toContain('/stages/0/reach');
    expect(
      errorPaths(EventBatch, {
        batchId: 'b1',
        events: [
          { type: 'track', name: 'x', unit: 'u', timestamp: 1 },
          { type: 'click', unit: 'u', timestamp: 1 },
        ],
      }),
    ).toContain('/events/1');
  });

  it('describes a rollout by its state alone, with no status alias', () => {
    const properties = (RolloutView as unknown as { properties: Record<string, unknown> }).properties;
    expect(properties).toHaveProperty('state');
    expect(properties).not.toHaveProperty('status');
  });
});
