/**
 * The HTTP contract of `@dimmer/api` against the real server: boots the server's test app over in-memory
 * stores, drives every route with valid requests (a guarded rollout runs with simulated traffic so decisions
 * and evidence hold real numbers), and checks each reply's status and body against the route table: the
 * body validates, and it carries no field the contract does not describe.
 */
import type { AddressInfo } from 'node:net';
import { type BodyOf, ROUTES, type RouteContract, type RouteName } from '@dimmer/api';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN_PREFIX, generateSecret } from '../packages/server/src/secrets.ts';
import { createMemoryStores } from '../packages/server/src/stores.ts';
import {
  REVIEWED_FLAG,
  REVIEWED_METRIC,
  REVIEWED_SURFACE,
  reviewedRolloutPlan,
} from '../packages/server/testing/approval-fixtures.ts';
import {
  startSignInServer,
  startTestProvider,
  walkProvider,
} from '../packages/server/testing/oidc-provider.ts';
import { MINUTE, setUpRolloutSim, TrafficSim } from '../packages/server/testing/rollout-sim.ts';
import { buildTestApp, type Json, manualClock, type TestApp } from '../packages/server/testing/test-app.ts';

/** Fields the server sends today that the contract drops: a rollout's `status` duplicates its `state`. */
const DROPPED_FIELDS = /^(\.rollouts\[\d+\])?\.status$/;

const validators = new Map<TSchema, ReturnType<typeof Compile>>();
function validatorOf(schema: TSchema) {
  let v = validators.get(schema);
  if (v === undefined) {
    v = Compile(schema);
    validators.set(schema, v);
  }
  return v;
}

/** Paths of fields in `value` that `cleaned` (the value with undescribed fields removed) lacks. */
function undescribed(value: unknown, cleaned: unknown, path = ''): string[] {
  if (Array.isArray(value) && Array.isArray(cleaned))
    return value.flatMap((v, i) => undescribed(v, cleaned[i], `${path}[${i}]`));
  if (value === null || typeof value !== 'object' || cleaned === null || typeof cleaned !== 'object')
    return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k in cleaned ? undescribed(v, (cleaned as Record<string, unknown>)[k], `${path}.${k}`) : [`${path}.${k}`],
  );
}

const checked = new Set<RouteName>();

/** Asserts the success status and that the body matches the route's reply schema, field for field. */
function expectContract(name: RouteName, reply: { status: number; json: Json }): Json {
  const route = ROUTES[name];
  expect(reply.status, `${name}: ${JSON.stringify(reply.json)?.slice(0, 2000)}`).toBe(route.status);
  checked.add(name);
  if (route.reply === null) return reply.json;
  const validator = validatorOf(route.reply);
  const errors = validator.Check(reply.json)
    ? []
    : validator.Errors(reply.json).map((e) => `${e.instancePath || '(root)'}: ${e.message}`);
  expect(errors, `${name} reply does not match the contract`).toEqual([]);
  const extra = undescribed(reply.json, Value.Clean(route.reply, structuredClone(reply.json))).filter(
    (path) => !DROPPED_FIELDS.test(path),
  );
  expect(extra, `${name} reply has fields the contract does not describe`).toEqual([]);
  return reply.json;
}

/** People of the identity provider in the sign-in block. */
const PEOPLE = {
  ana: { email: 'ana@example.com', name: 'Ana Admin', groups: ['dimmer-admins'] },
  rita: { email: 'rita@example.com', name: 'Rita Releaser', groups: ['release-managers'] },
};

let t: TestApp & { clock: ReturnType<typeof manualClock> };
let clientKey: string;

function client(method: string, url: string, body?: unknown) {
  return t.app
    .inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${clientKey}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    })
    .then((r) => ({ status: r.statusCode, json: r.body ? r.json() : undefined }));
}

const api = (path: string) => `/api/v1${path}`;

beforeAll(async () => {
  t = (await buildTestApp({ clock: manualClock() })) as typeof t;
  ({ clientKey } = await setUpRolloutSim(t, { surfaceRequires: ['crash_rate'] }));
});

afterAll(async () => {
  await t?.close();
});

describe('the route table builds a Fastify app and its OpenAPI document', () => {
  it('compiles every schema with the server Ajv options, and the document has every route', async () => {
    const app = Fastify({
      ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    });
    await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 'contract', version: '1' } } });
    app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) =>
      reply
        .code(error.statusCode ?? 500)
        .send({ error: { code: 'VALIDATION_FAILED', message: error.message } }),
    );
    for (const route of Object.values(ROUTES) as RouteContract[]) {
      const response: Record<number, unknown> = { ...route.errors };
      if (route.reply !== null && route.replyContentType === undefined) response[route.status] = route.reply;
      app.route({
        method: route.method,
        url: route.path,
        schema: {
          summary: route.summary,
          tags: [route.tag],
          ...(route.params ? { params: route.params } : {}),
          ...(route.querystring ? { querystring: route.querystring } : {}),
          ...(route.body && route.bodyParsedBy === undefined ? { body: route.body } : {}),
          response,
        },
        handler: async (_request, reply) => reply.code(501).send(),
      });
    }
    await app.ready();
    const document = app.swagger() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.values(document.paths).flatMap((p) => Object.keys(p)).length).toBe(
      Object.keys(ROUTES).length,
    );
    // The rejected body of a schema-checked route names the field.
    const bad = await app.inject({
      method: 'POST',
      url: '/api/v1/keys',
      payload: { name: 'k', environment: 'production', kind: 'mobile' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('kind');
    await app.close();
  });
});

/** Paths inside a JSON schema that accept any value (a schema with nothing but notes). */
function openNodes(node: unknown, path: string): string[] {
  if (node === null || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const notes = new Set(['description', 'title', 'default', 'examples']);
  const own = Object.keys(o).some((k) => !notes.has(k)) ? [] : [path || '(root)'];
  return own.concat(
    Object.entries(o).flatMap(([k, v]) => {
      if (k === 'properties')
        return Object.entries(v as object).flatMap(([p, s]) => openNodes(s, `${path}.${p}`));
      if (k === 'items') return openNodes(v, `${path}[]`);
      if (k === 'prefixItems') return (v as unknown[]).flatMap((s, i) => openNodes(s, `${path}[${i}]`));
      if (k === 'anyOf' || k === 'allOf' || k === 'oneOf')
        return (v as unknown[]).flatMap((s) => openNodes(s, path));
      if (k === 'patternProperties')
        return Object.values(v as object).flatMap((s) => openNodes(s, `${path}.*`));
      if (k === 'additionalProperties' && typeof v === 'object') return openNodes(v, `${path}.*`);
      return [];
    }),
  );
}

describe('replies are described concretely', () => {
  it('accept any value only in a condition operand and the audit documents', () => {
    const open = new Set(
      (Object.values(ROUTES) as RouteContract[]).flatMap((r) =>
        r.reply === null ? [] : openNodes(r.reply, ''),
      ),
    );
    const allowed = [
      /\.when\.value$/,
      /^\.entries\[\]\.(before|after)$/,
      // A targeted rule's preview shows the context attributes it made up: any JSON value an attribute may hold.
      /^\.targeted\.\*\[\]\.attributes\.\*$/,
    ];
    expect([...open].filter((path) => !allowed.some((a) => a.test(path)))).toEqual([]);
  });
});

describe('the server replies as @dimmer/api describes', () => {
  it('operations', async () => {
    const get = (url: string) =>
      t.app.inject({ url }).then((r) => ({ status: r.statusCode, json: r.json() }));
    expectContract('health', await get('/healthz'));
    expectContract('ready', await get('/readyz'));
  });

  it('environments', async () => {
    const body: BodyOf<'createEnvironment'> = { key: 'staging', name: 'Staging' };
    expectContract('createEnvironment', await t.admin('POST', api('/environments'), body));
    const list = expectContract('listEnvironments', await t.admin('GET', api('/environments')));
    expect(list.environments.map((e: Json) => e.key)).toContain('staging');
    const rename: BodyOf<'replaceEnvironment'> = { name: 'Staging area' };
    const renamed = expectContract(
      'replaceEnvironment',
      await t.admin('PUT', api('/environments/staging'), rename),
    );
    expect(renamed.name).toBe('Staging area');
    expectContract(
      'createEnvironment',
      await t.admin('POST', api('/environments'), { key: 'scratch', name: 'Scratch' }),
    );
    expectContract('deleteEnvironment', await t.admin('DELETE', api('/environments/scratch')));
  });

  it('segments, flags and their actions', async () => {
    const segment: BodyOf<'createSegment'> = {
      key: 'beta',
      description: 'Beta testers',
      when: {
        any: [
          { attr: 'plan', op: 'in', value: ['beta', 'pro'] },
          { not: { attr: 'internal', op: 'exists' } },
        ],
      },
    };
    expectContract('createSegment', await t.admin('POST', api('/segments'), segment));
    expectContract('getSegment', await t.admin('GET', api('/segments/beta')));
    expectContract(
      'replaceSegment',
      await t.admin('PUT', api('/segments/beta'), { ...segment, description: 'Beta' }),
    );
    expectContract('listSegments', await t.admin('GET', api('/segments')));
    expectContract(
      'createSegment',
      await t.admin('POST', api('/segments'), { key: 'temp', when: { segment: 'beta' } }),
    );
    expectContract('deleteSegment', await t.admin('DELETE', api('/segments/temp')));

    const flag: BodyOf<'createFlag'> = {
      key: 'banner',
      kind: 'object',
      description: 'Home banner',
      variants: { none: {}, sale: { text: 'Sale', color: 'red' } },
      defaultVariant: 'none',
      environments: {
        production: {
          enabled: true,
          overrides: { 'user-1': 'sale' },
          rules: [
            { id: 'beta', when: { segment: 'beta' }, serve: { variant: 'sale' } },
            { id: 'half', serve: { split: [{ variant: 'sale', range: [0, 500_000] }] } },
          ],
        },
      },
    };
    expectContract('createFlag', await t.admin('POST', api('/flags'), flag));
    expectContract('getFlag', await t.admin('GET', api('/flags/banner')));
    expectContract('listFlags', await t.admin('GET', api('/flags?environment=production&q=ban')));
    const { key: _key, ...document } = flag;
    const replaced = expectContract(
      'replaceFlag',
      await t.admin('PUT', api('/flags/banner'), {
        ...document,
        environments: {
          production: {
            enabled: true,
            rules: [{ id: 'half', serve: { split: [{ variant: 'sale', range: [0, 600_000] }] } }],
          },
        },
      }),
    );
    expect(Object.keys(replaced.preview)).toEqual(['production']);
    const preview = expectContract(
      'previewFlag',
      await t.admin('POST', api('/flags/banner/preview'), {
        ...document,
        environments: {
          production: {
            enabled: true,
            rules: [
              {
                id: 'beta',
                when: { segment: 'beta' },
                serve: { split: [{ variant: 'sale', range: [0, 250_000] }] },
              },
              { id: 'half', serve: { split: [{ variant: 'sale', range: [0, 500_000] }] } },
            ],
          },
        },
      }),
    );
    expect(Object.keys(preview.targeted)).toContain('production');
    expectContract('patchFlag', await t.admin('PATCH', api('/flags/banner'), { description: null }));
    expectContract(
      'putFlagEnvironment',
      await t.admin('PUT', api('/flags/banner/environments/staging'), { enabled: false, rules: [] }),
    );
    expectContract(
      'enableFlagEnvironment',
      await t.admin('POST', api('/flags/banner/environments/staging/enable')),
    );
    expectContract(
      'disableFlagEnvironment',
      await t.admin('POST', api('/flags/banner/environments/staging/disable')),
    );
    expectContract('archiveFlag', await t.admin('POST', api('/flags/banner/archive')));
    expectContract('listFlags', await t.admin('GET', api('/flags?archived=true')));
    expectContract('unarchiveFlag', await t.admin('POST', api('/flags/banner/unarchive')));
  });

  it('metrics and surfaces', async () => {
    const metric: BodyOf<'createMetric'> = {
      key: 'checkout_value',
      kind: 'mean',
      event: 'checkout',
      aggregate: 'sum',
      direction: 'lower_is_worse',
      margin: 0.05,
      window: '1d',
      category: 'business',
      cap: 1_000,
    };
    expectContract('createMetric', await t.admin('POST', api('/metrics'), metric));
    expectContract(
      'replaceMetric',
      await t.admin('PUT', api('/metrics/checkout_value'), { ...metric, margin: 0.04 }),
    );
    expectContract('getMetric', await t.admin('GET', api('/metrics/checkout_value')));
    const ratio: BodyOf<'createMetric'> = {
      key: 'errors_per_request',
      kind: 'ratio',
      numerator: { event: 'error', aggregate: 'count' },
      denominator: { event: 'request', aggregate: 'count' },
      direction: 'higher_is_worse',
      margin: 0.1,
      category: 'reliability',
    };
    expectContract('createMetric', await t.admin('POST', api('/metrics'), ratio));
    expectContract('listMetrics', await t.admin('GET', api('/metrics')));

    const surface: BodyOf<'createSurface'> = {
      key: 'home',
      name: 'Home page',
      description: 'Everything above the fold',
      guardrails: [{ metric: 'checkout_value', margin: 0.02 }],
    };
    expectContract('createSurface', await t.admin('POST', api('/surfaces'), surface));
    expectContract(
      'replaceSurface',
      await t.admin('PUT', api('/surfaces/home'), { ...surface, guardrails: [] }),
    );
    expectContract('getSurface', await t.admin('GET', api('/surfaces/home')));
    expectContract('listSurfaces', await t.admin('GET', api('/surfaces')));
    expectContract(
      'createSurface',
      await t.admin('POST', api('/surfaces'), { ...surface, key: 'search', name: 'Search' }),
    );
    const holdback: BodyOf<'setSurfaceHoldback'> = { percent: 2 };
    expectContract('setSurfaceHoldback', await t.admin('POST', api('/surfaces/search/holdback'), holdback));
    expectContract(
      'getSurfaceHoldbackReport',
      await t.admin('GET', api('/surfaces/search/holdback-report?environment=production')),
    );
    expectContract('disableSurfaceHoldback', await t.admin('POST', api('/surfaces/search/holdback/disable')));
    expectContract('getSurface', await t.admin('GET', api('/surfaces/search')));
    expectContract('deleteSurface', await t.admin('DELETE', api('/surfaces/home')));
    expectContract('deleteMetric', await t.admin('DELETE', api('/metrics/errors_per_request')));
  });

  it('a guarded rollout: plan, looks with evidence, decisions and every action', async () => {
    const plan: BodyOf<'createRollout'> = {
      id: 'ro_1',
      flag: 'new-checkout',
      environment: 'production',
      treatment: 'on',
      control: 'off',
      stages: [
        { reach: 1, minDuration: '1h', minUnitsPerArm: 20, minEventsPerArm: 5 },
        { reach: 10, minDuration: '1h', minUnitsPerArm: 100, minEventsPerArm: 5 },
        { reach: 100, minDuration: '1h' },
      ],
      holdback: 2,
      guardrails: [{ metric: 'crash_rate' }],
      mode: 'manual',
      expectedUnitsPerDay: 72_000,
      expectedBaselines: { crash_rate: { mean: 0.2 } },
    };
    const dryRun = expectContract('planRollout', await t.admin('POST', api('/rollouts/plan'), plan));
    expect(dryRun.schedule).toHaveLength(3);
    expectContract('createRollout', await t.admin('POST', api('/rollouts'), plan));
    expectContract('getRolloutPlan', await t.admin('GET', api('/rollouts/ro_1/plan')));
    expectContract('startRollout', await t.admin('POST', api('/rollouts/ro_1/start')));

    const sim = new TrafficSim(t, { clientKey, flag: 'new-checkout', seed: 7 });
    for (let i = 0; i < 6; i++) {
      await sim.step({
        units: 800,
        rates: { app_crash: { treatment: 0.2, control: 0.2 } },
        durationMs: 15 * MINUTE,
      });
      await t.app.dimmer.controller.tick();
    }
    const page = expectContract(
      'listRolloutDecisions',
      await t.admin('GET', api('/rollouts/ro_1/decisions?limit=3')),
    );
    expect(page.decisions.length).toBeGreaterThan(0);
    const chart = expectContract('getRolloutChart', await t.admin('GET', api('/rollouts/ro_1/chart')));
    expectContract(
      'getRolloutChart',
      await t.admin('GET', api(`/rollouts/ro_1/chart?after=${chart.cursor}`)),
    );
    expect(page.decisions.some((d: Json) => d.metrics.crash_rate?.summary !== null)).toBe(true);
    expectContract('getRolloutEvidence', await t.admin('GET', api('/rollouts/ro_1/evidence')));
    const rollout = expectContract('getRollout', await t.admin('GET', api('/rollouts/ro_1')));
    expect(rollout.latestDecision).not.toBeNull();
    expectContract('getRolloutPlan', await t.admin('GET', api('/rollouts/ro_1/plan')));
    expectContract('listRollouts', await t.admin('GET', api('/rollouts?environment=production')));

    expectContract('pauseRollout', await t.admin('POST', api('/rollouts/ro_1/pause')));
    expectContract('resumeRollout', await t.admin('POST', api('/rollouts/ro_1/resume')));
    expectContract('advanceRollout', await t.admin('POST', api('/rollouts/ro_1/advance')));
    expectContract('rollbackRollout', await t.admin('POST', api('/rollouts/ro_1/rollback')));
    expectContract('resumeRollout', await t.admin('POST', api('/rollouts/ro_1/resume')));
    expectContract('completeRollout', await t.admin('POST', api('/rollouts/ro_1/complete')));
    expectContract('getRollout', await t.admin('GET', api('/rollouts/ro_1')));
  });

  it('an experiment: sample plan, results, looks and every action', async () => {
    const flag = await t.admin('POST', api('/flags'), {
      key: 'button-color',
      kind: 'string',
      variants: { blue: 'blue', green: 'green', red: 'red' },
      defaultVariant: 'blue',
      environments: { production: { enabled: true, rules: [] } },
    });
    expect(flag.status, JSON.stringify(flag.json)).toBe(201);
    const body = (id: string): BodyOf<'createExperiment'> => ({
      id,
      flag: 'button-color',
      environment: 'production',
      control: 'blue',
      variants: [{ variant: 'blue' }, { variant: 'green' }, { variant: 'red', weight: 34 }].map((v) =>
        v.variant === 'red' ? v : { ...v, weight: 33 },
      ),
      coverage: 20,
      successMetrics: [{ metric: 'crash_rate', mde: 0.1 }],
      autoAbort: false,
      expectedUnitsPerDay: 40_000,
      expectedBaselines: { crash_rate: { mean: 0.2 } },
    });
    expectContract('createExperiment', await t.admin('POST', api('/experiments'), body('ex_1')));
    expectContract('startExperiment', await t.admin('POST', api('/experiments/ex_1/start')));
    const coverage: BodyOf<'setExperimentCoverage'> = { coverage: 50 };
    expectContract(
      'setExperimentCoverage',
      await t.admin('POST', api('/experiments/ex_1/coverage'), coverage),
    );
    await t.app.dimmer.experimentController.tick();
    expectContract('getExperimentResults', await t.admin('GET', api('/experiments/ex_1/results')));
    expectContract(
      'replaceExperiment',
      await t.admin('PUT', api('/experiments/ex_1'), { ...body('ex_1'), coverage: 20, autoAbort: true }),
    );
    const read = expectContract('getExperiment', await t.admin('GET', api('/experiments/ex_1')));
    expect(read.latestResults).not.toBeNull();
    expectContract('listExperiments', await t.admin('GET', api('/experiments?environment=production')));
    expectContract('stopExperiment', await t.admin('POST', api('/experiments/ex_1/stop')));
    expectContract('createExperiment', await t.admin('POST', api('/experiments'), body('ex_2')));
    expectContract('startExperiment', await t.admin('POST', api('/experiments/ex_2/start')));
    expectContract('abortExperiment', await t.admin('POST', api('/experiments/ex_2/abort')));
    expectContract('createExperiment', await t.admin('POST', api('/experiments'), body('ex_3')));
    expectContract('startExperiment', await t.admin('POST', api('/experiments/ex_3/start')));
    const ship: BodyOf<'shipExperiment'> = { variant: 'green', rolloutId: 'ro_green' };
    const shipped = expectContract(
      'shipExperiment',
      await t.admin('POST', api('/experiments/ex_3/ship'), ship),
    );
    expect(shipped.rollout.state).toBe('running');
  });

  it('client keys and the audit log', async () => {
    const body: BodyOf<'createKey'> = {
      name: 'web',
      environment: 'production',
      kind: 'browser',
      allowedOrigins: ['https://shop.example'],
    };
    const created = expectContract('createKey', await t.admin('POST', api('/keys'), body));
    expectContract('listKeys', await t.admin('GET', api('/keys?environment=production')));
    expectContract('revokeKey', await t.admin('POST', api(`/keys/${created.key.id}/revoke`)));
    const tokenBody: BodyOf<'createToken'> = { name: 'ci' };
    const token = expectContract('createToken', await t.admin('POST', api('/tokens'), tokenBody));
    expectContract('listTokens', await t.admin('GET', api('/tokens')));
    const rotated = expectContract(
      'rotateToken',
      await t.admin('POST', api(`/tokens/${token.token.id}/rotate`)),
    );
    expectContract('revokeToken', await t.admin('POST', api(`/tokens/${rotated.token.id}/revoke`)));
    const audit = expectContract('listAudit', await t.admin('GET', api('/audit?limit=500')));
    const types = new Set(audit.entries.map((e: Json) => e.resourceType));
    for (const type of [
      'environment',
      'flag',
      'segment',
      'client_key',
      'admin_token',
      'metric',
      'surface',
      'rollout',
    ])
      expect(types, type).toContain(type);
    expectContract('listAudit', await t.admin('GET', api('/audit?resourceType=rollout&limit=2')));
  });

  it('SDK config, resolve, events and OFREP', async () => {
    expectContract('getConfig', await client('GET', '/sdk/v1/config'));
    expectContract(
      'resolve',
      await client('POST', '/sdk/v1/resolve', { context: { targetingKey: 'u1', plan: 'beta' } }),
    );
    expectContract(
      'resolve',
      await client('POST', '/sdk/v1/resolve', {
        context: { targetingKey: 'u1' },
        flags: ['banner', 'missing'],
        logExposures: false,
      }),
    );
    const now = t.clock.now();
    // The exposure names the variant u1 is actually served: the server checks it against the assignment.
    const served = await client('POST', '/sdk/v1/resolve', {
      context: { targetingKey: 'u1' },
      flags: ['new-checkout'],
      logExposures: false,
    });
    const variant = served.json.flags['new-checkout'].variant as string;
    const batch: BodyOf<'sendEvents'> = {
      batchId: 'contract-1',
      events: [
        {
          type: 'exposure',
          flag: 'new-checkout',
          variant,
          unit: 'u1',
          configVersion: 1,
          timestamp: now,
        },
        { type: 'track', name: 'app_crash', unit: 'u1', value: 1, timestamp: new Date(now).toISOString() },
        { type: 'track', name: '', unit: 'u1', timestamp: now },
      ],
    };
    const events = expectContract('sendEvents', await client('POST', '/v1/events', batch));
    expect(events.rejected.map((r: Json) => r.index)).toEqual([2]);
    expectContract(
      'ofrepEvaluateFlag',
      await client('POST', '/ofrep/v1/evaluate/flags/banner', { context: { targetingKey: 'u1' } }),
    );
    expectContract(
      'ofrepEvaluateFlags',
      await client('POST', '/ofrep/v1/evaluate/flags', { context: { targetingKey: 'u1' } }),
    );
  });

  it('the config stream sends config events as described', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/sdk/v1/stream`, {
      headers: { authorization: `Bearer ${clientKey}` },
      signal: abort.signal,
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/\ndata: .*\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();
    const data = /\ndata: (.*)\n/.exec(text)?.[1] ?? 'null';
    expectContract('streamConfig', { status: response.status, json: JSON.parse(data) });
  });

  it('people, sessions, approvals and sign-in, with a real OpenID Connect provider', async () => {
    // Sign-in needs a server listening where the provider redirects to, so this block runs its own.
    const provider = await startTestProvider({ people: PEOPLE });
    const adminToken = generateSecret(ADMIN_TOKEN_PREFIX);
    const stores = createMemoryStores();
    const { app: server, base } = await startSignInServer({
      provider,
      stores,
      adminToken,
      groupRoles: [
        { group: 'dimmer-admins', environment: '*', role: 'admin' },
        { group: 'release-managers', environment: '*', role: 'releaser' },
      ],
    });
    try {
      const reply = async (response: Response) => {
        const text = await response.text();
        return { status: response.status, json: text === '' ? undefined : (JSON.parse(text) as Json) };
      };
      /** A request with a bearer credential (the admin token or a session token) and a JSON body. */
      const send = async (bearer: string, method: string, path: string, body?: unknown) =>
        reply(
          await fetch(`${base}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${bearer}`,
              ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          }),
        );

      const config = expectContract('authConfig', await reply(await fetch(`${base}/auth/config`)));
      expect(config.oidc).toMatchObject({ loginPath: '/auth/login', deviceFlow: true });

      // The browser sign-in, as the dashboard's browser does it: login, the provider's pages, the callback.
      const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
      expectContract('authLogin', await reply(login));
      const pending = login.headers.getSetCookie()[0]?.split(';')[0] as string;
      const { url } = await walkProvider(
        login.headers.get('location') as string,
        'ana',
        `${base}/auth/callback`,
      );
      const callback = await fetch(url, { redirect: 'manual', headers: { cookie: pending } });
      expectContract('authCallback', await reply(callback));
      const cookies = callback.headers.getSetCookie().map((c) => c.split(';')[0] as string);
      const csrf = decodeURIComponent(
        (cookies.find((c) => c.startsWith('dimmer_csrf=')) as string).slice('dimmer_csrf='.length),
      );
      const ana = { cookie: cookies.join('; '), csrf };
      const me = expectContract(
        'getMe',
        await reply(await fetch(`${base}/api/v1/me`, { headers: { cookie: ana.cookie } })),
      );
      expect(me).toMatchObject({ actor: 'user:ana@example.com', role: 'admin' });

      // The device sign-in, as the CLI does it: the person confirms the code in the provider's pages.
      const device = expectContract(
        'authDeviceStart',
        await reply(await fetch(`${base}/auth/device`, { method: 'POST' })),
      );
      const poll = async () =>
        reply(
          await fetch(`${base}/auth/device/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ deviceCode: device.deviceCode }),
          }),
        );
      expect(expectContract('authDeviceToken', await poll()).status).toBe('pending');
      await walkProvider(device.verificationUriComplete, 'rita');
      const done = expectContract('authDeviceToken', await poll());
      expect(done).toMatchObject({ status: 'complete', actor: 'user:rita@example.com' });
      const rita = done.token as string;

      // Grants and sessions, by the admin signed in with the browser (cookie and CSRF header).
      const asAna = async (method: string, path: string, body?: unknown) =>
        reply(
          await fetch(`${base}${path}`, {
            method,
            headers: {
              cookie: ana.cookie,
              ...(method !== 'GET' ? { 'x-csrf-token': ana.csrf } : {}),
              ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
            },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          }),
        );
      const grantBody: BodyOf<'createGrant'> = {
        subject: 'user:rob@example.com',
        environment: 'production',
        role: 'editor',
      };
      const grant = expectContract('createGrant', await asAna('POST', api('/grants'), grantBody));
      const grants = expectContract('listGrants', await asAna('GET', api('/grants')));
      expect(grants.grants.map((g: Json) => g.id)).toContain(grant.id);
      expectContract('deleteGrant', await asAna('DELETE', api(`/grants/${grant.id}`)));
      const sessions = expectContract('listSessions', await asAna('GET', api('/sessions')));
      const ritaSession = sessions.sessions.find((s: Json) => s.actor === 'user:rita@example.com');
      expect(ritaSession).toBeDefined();

      // Four-eyes approvals: the admin token authors, a releaser other than the author approves.
      const created = async (path: string, body: unknown) => {
        const r = await send(adminToken, 'POST', api(path), body);
        expect(r.status, `${path}: ${JSON.stringify(r.json)}`).toBe(201);
        return r.json;
      };
      await created('/metrics', REVIEWED_METRIC);
      await created('/metrics', {
        key: 'conversion',
        kind: 'proportion',
        event: 'purchase',
        direction: 'lower_is_worse',
        category: 'business',
        margin: 0.05,
      });
      await created('/surfaces', REVIEWED_SURFACE);
      await created('/flags', REVIEWED_FLAG);
      const rollout = await created('/rollouts', reviewedRolloutPlan('ro_reviewed'));
      const ask: BodyOf<'requestRolloutApproval'> = { action: 'start', comment: 'please review' };
      expectContract(
        'requestRolloutApproval',
        await send(adminToken, 'POST', api('/rollouts/ro_reviewed/approvals/request'), ask),
      );
      const approval: BodyOf<'approveRollout'> = { action: 'start', version: rollout.version };
      const approved = expectContract(
        'approveRollout',
        await send(rita, 'POST', api('/rollouts/ro_reviewed/approvals'), approval),
      );
      expect(approved.satisfied).toBe(true);
      expectContract('getRolloutApprovals', await send(rita, 'GET', api('/rollouts/ro_reviewed/approvals')));

      const experiment = await created('/experiments', {
        id: 'ex_reviewed',
        flag: 'one-page-checkout',
        environment: 'production',
        control: 'off',
        variants: [
          { variant: 'off', weight: 50 },
          { variant: 'on', weight: 50 },
        ],
        coverage: 20,
        successMetrics: [{ metric: 'conversion', mde: 0.1 }],
      });
      expectContract(
        'requestExperimentApproval',
        await send(adminToken, 'POST', api('/experiments/ex_reviewed/approvals/request'), ask),
      );
      const experimentApproval: BodyOf<'approveExperiment'> = {
        action: 'start',
        version: experiment.version,
      };
      expect(
        expectContract(
          'approveExperiment',
          await send(rita, 'POST', api('/experiments/ex_reviewed/approvals'), experimentApproval),
        ).satisfied,
      ).toBe(true);
      expectContract(
        'getExperimentApprovals',
        await send(rita, 'GET', api('/experiments/ex_reviewed/approvals')),
      );

      // Ending sessions: an admin revokes one; a person signs out of their own.
      const revoked = expectContract(
        'revokeSession',
        await asAna('POST', api(`/sessions/${ritaSession.id}/revoke`)),
      );
      expect(revoked.revokedAt).not.toBeNull();
      expect((await send(rita, 'GET', api('/me'))).status).toBe(401);
      expectContract(
        'authLogout',
        await reply(
          await fetch(`${base}/auth/logout`, {
            method: 'POST',
            headers: { cookie: ana.cookie, 'x-csrf-token': ana.csrf },
          }),
        ),
      );
      expect((await asAna('GET', api('/me'))).status).toBe(401);
    } finally {
      await server.close();
      await stores.close();
      await provider.close();
    }
  }, 180_000);

  it('covered every route of the table', () => {
    expect(Object.keys(ROUTES).filter((name) => !checked.has(name as RouteName))).toEqual([]);
  });
});
