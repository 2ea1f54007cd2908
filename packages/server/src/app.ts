/**
 * The composition root: builds the Fastify app from its dependencies (stores, clock, logger, config),
 * wires every feature, loads the config hub and starts following changes from other nodes.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { registerAuditRoutes } from './audit/audit.routes.ts';
import { registerSdkRoutes } from './client-api/client-api.routes.ts';
import type { StreamLimits } from './client-api/config-stream.ts';
import type { ExposureSink, SdkDeps } from './client-deps.ts';
import type { Clock } from './clock.ts';
import { createConfigLagGauge, createConfigVersionGauge } from './config/config.metrics.ts';
import { StoreConfigHub } from './config/config-hub.ts';
import { registerEnvironmentRoutes } from './environments/environments.routes.ts';
import { EnvironmentsService } from './environments/environments.service.ts';
import { EventQuotas } from './events/event-admission.ts';
import { DEFAULT_EVENT_LIMITS, type EventLimits } from './events/event-parse.ts';
import { observeIngestion } from './events/events.metrics.ts';
import { registerEventRoutes } from './events/events.routes.ts';
import {
  EventPipeline,
  type PipelineLimits,
  SERVING_THREAD_TRANSACTION_MS,
  WRITER_THREAD_GROUPS_IN_FLIGHT,
  WRITER_THREAD_TRANSACTION_MS,
} from './events/events.service.ts';
import { ExposureBuffer } from './events/exposure-sink.ts';
import { ExperimentController } from './experiments/controller.ts';
import { registerExperimentRoutes } from './experiments/experiments.routes.ts';
import { ExperimentsService } from './experiments/experiments.service.ts';
import type { ExperimentRecord } from './experiments/experiments.store.ts';
import { registerFlagRoutes } from './flags/flags.routes.ts';
import { FlagsService } from './flags/flags.service.ts';
import { requireAdmin } from './http/admin-auth.ts';
import {
  type ConnectionTimeouts,
  createHttpServer,
  DEFAULT_CONNECTION_TIMEOUTS,
  serverTimeoutOptions,
} from './http/connection-limits.ts';
import { DEFAULT_DASHBOARD_DIR, registerDashboard } from './http/dashboard.ts';
import { installErrorHandlers } from './http/error-handler.ts';
import { FastPaths } from './http/fast-path.ts';
import { installJsonParser } from './http/json-body.ts';
import { lazyChildLogger } from './http/lazy-logger.ts';
import { installMetrics } from './http/metrics.ts';
import { registerOpsRoutes } from './http/ops.routes.ts';
import { installRateLimit } from './http/rate-limit.ts';
import { installRequestLog } from './http/request-log.ts';
import { openApiTransform } from './http/route-schema.ts';
import { registerKeyRoutes } from './keys/keys.routes.ts';
import { DEFAULT_KEYS_RELOAD_MS, KeysService } from './keys/keys.service.ts';
import { registerMetricRoutes } from './metrics/metrics.routes.ts';
import { MetricsService } from './metrics/metrics.service.ts';
import { ofrepFastRoutes, registerOfrepRoutes } from './ofrep/ofrep.routes.ts';
import {
  AccessService,
  ApprovalsService,
  createAdminAuthenticator,
  DEFAULT_SESSION_TTL_MS,
  type GroupRole,
  OidcClient,
  type OidcSettings,
  type Reviewable,
  registerAuthRoutes,
  registerPeopleRoutes,
  SessionsService,
} from './people/index.ts';
import { registerResolveRoutes, resolveFastRoute } from './resolve/resolve.routes.ts';
import { RolloutController } from './rollouts/controller.ts';
import type { RolloutRecord } from './rollouts/index.ts';
import {
  createRolloutMetrics,
  observeControllerLease,
  observeRolloutAlarms,
  observeRolloutStatuses,
  observeWebhookOutbox,
} from './rollouts/rollouts.metrics.ts';
import { registerRolloutRoutes } from './rollouts/rollouts.routes.ts';
import { RolloutsService } from './rollouts/rollouts.service.ts';
import { WebhookNotifier, type WebhookOptions } from './rollouts/webhooks.ts';
import { registerSegmentRoutes } from './segments/segments.routes.ts';
import { SegmentsService } from './segments/segments.service.ts';
import {
  DEFAULT_CONFIG_POLL_MS,
  DEFAULT_CONTROLLER_INTERVAL_MS,
  DEFAULT_CONTROLLER_LEASE_MS,
  DEFAULT_EVENTS_PER_MINUTE_PER_KEY,
  DEFAULT_RATE_LIMIT_PER_MINUTE,
} from './settings.ts';
import type { ConfigChange } from './storage/write.ts';
import type { Stores } from './stores.ts';
import { registerSurfaceRoutes } from './surfaces/surfaces.routes.ts';
import { SurfacesService } from './surfaces/surfaces.service.ts';

/** Largest admin request body, in bytes. */
export const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** Default SSE heartbeat interval, in milliseconds. */
export const DEFAULT_STREAM_HEARTBEAT_MS = 15_000;
export const API_PREFIX = '/api/v1';

export interface AppConfig {
  /** Requests per minute per server key and route on the client (SDK, OFREP, events) routes. */
  rateLimitPerMinute: number;
  /** Requests per minute per browser key and route (default 600,000). */
  browserRateLimitPerMinute?: number;
  /** Failed authentications per minute per client address before they get 429 (default 600). */
  authFailuresPerMinute?: number;
  /** Header, request, idle and keep-alive timeouts of the Node server. */
  timeouts?: Partial<ConnectionTimeouts>;
  /** Caps on open config streams (per key, per address, in all). */
  streamLimits?: Partial<StreamLimits>;
  /** Most `POST /v1/events` requests admitted at once before 429 (default 64). */
  eventsMaxInFlight?: number;
  bodyLimitBytes: number;
  streamHeartbeatMs: number;
  /** Units in the split-change preview sample (100,000 unless a test wants it faster). */
  previewSampleSize?: number;
  /** Batch size and timestamp limits of `POST /v1/events`. */
  eventLimits?: Partial<EventLimits>;
  /** Capacity and group-commit size of the ingestion pipeline. */
  ingestion?: Partial<PipelineLimits>;
  /** Events per minute a client key may send unless it sets its own (DIMMER_EVENTS_PER_MINUTE_PER_KEY). */
  eventsPerMinutePerKey?: number;
  /**
   * Whether posted exposures are checked against the flag's assignment (default true). Only tests of the
   * aggregation arithmetic, which move units between arms freely, turn it off.
   */
  checkExposures?: boolean;
  /** How often raw events and batch ids older than the accepted event age are deleted, in ms (0: never). */
  pruneIntervalMs?: number;
  /** Folder of the built dashboard served at `/`; false serves none. Default: packages/dashboard/dist when built. */
  dashboardDir?: string | false;
  /** Time between controller ticks in milliseconds (DIMMER_CONTROLLER_INTERVAL_MS); 0 never ticks on its own. */
  controllerIntervalMs?: number;
  /** Outgoing webhooks for rollout decisions (DIMMER_WEBHOOK_URLS, DIMMER_WEBHOOK_SECRET). */
  webhooks?: Omit<WebhookOptions, 'logger'>;
  /** Controller lease period across nodes, in milliseconds (DIMMER_CONTROLLER_LEASE_MS). */
  controllerLeaseMs?: number;
  /** Interval of the config version poll backing up NOTIFY, in milliseconds (DIMMER_CONFIG_POLL_MS; 0: off). */
  configPollMs?: number;
  /** Interval of the full client key table reload, in milliseconds (0: never). */
  keysReloadMs?: number;
  /**
   * Whether the hot remote-evaluation routes (OFREP, `POST /sdk/v1/resolve`) are answered on the fast path in
   * front of Fastify (default true; DIMMER_FAST_PATHS). Off when the log is at debug, which logs every request
   * through Fastify.
   */
  fastPaths?: boolean;
  /** People: the identity provider (DIMMER_OIDC_*), the group mapping, session lifetime and cookie security. */
  people?: {
    oidc?: OidcSettings;
    groupRoles?: readonly GroupRole[];
    /** Session lifetime in milliseconds (DIMMER_SESSION_TTL_MS, default 12 hours). */
    sessionTtlMs?: number;
    /** Whether cookies carry `Secure` (default: when the redirect URL is https). */
    secureCookies?: boolean;
  };
}

/** Delay before a failed config resync after a listener reconnection is tried again, in milliseconds. */
const RESYNC_RETRY_MS = 1_000;
/** Default interval between deletions of expired raw events, in milliseconds (one hour). */
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;
/** Raw events are kept this long beyond the oldest accepted timestamp, in milliseconds (one day). */
export const RAW_EVENT_RETENTION_SLACK_MS = 86_400_000;

export interface AppDeps {
  stores: Stores;
  clock: Clock;
  /** Fastify logger option: false, true, or pino options. */
  logger?: FastifyServerOptions['logger'];
  config?: Partial<AppConfig>;
  /** An admin token to accept (DIMMER_ADMIN_TOKEN); when absent and none is stored, one is generated. */
  adminToken?: string;
  /** Receives a generated admin token once, on first start. */
  onAdminTokenCreated?: (token: string) => void;
  exposures?: ExposureSink;
}

/** What the composition root exposes beside the Fastify instance (tests and startServer read it). */
export interface DimmerContext {
  hub: StoreConfigHub;
  stores: Stores;
  keys: KeysService;
  rollouts: RolloutsService;
  /** The rollout controller; `tick()` runs one look at every monitored rollout and returns the decisions. */
  controller: RolloutController;
  /** Experiments (A/B tests) and their controller; `experimentController.tick()` records one look at each running one. */
  experiments: ExperimentsService;
  experimentController: ExperimentController;
  webhooks: WebhookNotifier;
  /** The ingestion pipeline (group commit) behind `POST /v1/events` and server-side exposure logging. */
  events: EventPipeline;
  /** Environments created on this start because the store had none. */
  createdEnvironments: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    dimmer: DimmerContext;
  }
}

/** What a reviewer reviews of a rollout: its plan, and the stage a manual advance would leave. */
function reviewableRollout(record: RolloutRecord, nextReach: number | null): Reviewable {
  const plan = record.plan as { stages?: { reach: number }[] };
  return {
    id: record.id,
    flag: record.flag,
    environment: record.environment,
    status: record.state,
    revision: record.revision,
    plan: record.plan,
    stage: record.stage,
    attempt: record.attempt,
    nextReach:
      nextReach ?? (record.state === 'draft' ? null : (plan.stages?.[record.stage + 1]?.reach ?? null)),
  };
}

function reviewableExperiment(record: ExperimentRecord): Reviewable {
  return {
    id: record.id,
    flag: record.flag,
    environment: record.environment,
    status: record.status,
    revision: record.revision,
    plan: record.plan,
    stage: null,
    attempt: null,
    nextReach: null,
  };
}

/** Builds the app; it is ready to listen or inject. Closing the app stops the hub and listeners, not the stores. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const config: AppConfig = {
    rateLimitPerMinute: DEFAULT_RATE_LIMIT_PER_MINUTE,
    bodyLimitBytes: ADMIN_BODY_LIMIT_BYTES,
    streamHeartbeatMs: DEFAULT_STREAM_HEARTBEAT_MS,
    ...deps.config,
  };
  // The fast paths, once built, see every request before Fastify (see http/fast-path.ts).
  let fastPaths: FastPaths | undefined;
  const timeouts = serverTimeoutOptions({ ...DEFAULT_CONNECTION_TIMEOUTS, ...config.timeouts });
  const app = Fastify({
    ...timeouts,
    serverFactory: (handler) =>
      createHttpServer(timeouts, (request, response) => {
        if (fastPaths?.handle(request, response) !== true) handler(request, response);
      }),
    logger: deps.logger ?? false,
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: true,
    // Fastify's two lines per request are replaced by one line per admin request (installRequestLog).
    logController: new LogController({ disableRequestLogging: true }),
    // Without a logger Fastify gives requests the logger itself; with one, their child is built on first use.
    ...(deps.logger ? { childLoggerFactory: lazyChildLogger } : {}),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });
  installErrorHandlers(app);
  const parseJson = installJsonParser(app);
  installRequestLog(app, API_PREFIX);

  await app.register(swagger, {
    transform: openApiTransform,
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Dimmer API',
        version: '1',
        description: 'Feature flags with guarded rollouts: admin, SDK, OFREP and operations routes.',
      },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'Admin token (dmr_admin_…)' },
          clientKey: { type: 'http', scheme: 'bearer', description: 'Client key (dmr_srv_… or dmr_pub_…)' },
        },
      },
    },
  });
  const gate = installRateLimit(
    app,
    {
      serverKeyPerMinute: config.rateLimitPerMinute,
      ...(config.browserRateLimitPerMinute !== undefined
        ? { browserKeyPerMinute: config.browserRateLimitPerMinute }
        : {}),
      ...(config.authFailuresPerMinute !== undefined
        ? { authFailuresPerMinute: config.authFailuresPerMinute }
        : {}),
    },
    (rawKey, keyHash) => keys.resolveClientKey(rawKey, keyHash),
  );
  const metrics = installMetrics(app);
  const configVersion = createConfigVersionGauge(metrics.registry);
  const configLag = createConfigLagGauge(metrics.registry);
  const rolloutMetrics = createRolloutMetrics(metrics.registry);

  const { stores, clock } = deps;
  const hub = new StoreConfigHub({
    store: stores.config,
    listEnvironments: async () => (await stores.environments.list()).map((e) => e.key),
    onSwap: (state) => configVersion.set({ environment: state.environment }, state.version),
    onLag: (environment, seconds) => configLag.set({ environment }, seconds),
    now: () => clock.now(),
    logger: app.log,
  });
  const announce = (changes: readonly ConfigChange[]) => hub.apply(changes);
  const keys = new KeysService({ keys: stores.keys, environments: stores.environments, clock });
  const environments = new EnvironmentsService({
    environments: stores.environments,
    clock,
    announce,
    references: async (environment) => ({
      keys: (await stores.keys.listClientKeys({ environment }))
        .filter((k) => k.revokedAt === null)
        .map((k) => k.name),
      rollouts: (await stores.rollouts.list({ environment })).map((r) => ({ id: r.id, state: r.state })),
      experiments: (await stores.experiments.list({ environment })).map((e) => ({
        id: e.id,
        status: e.status,
      })),
    }),
  });
  const flags = new FlagsService({
    flags: stores.flags,
    segments: stores.segments,
    environments: stores.environments,
    surfaces: stores.surfaces,
    rollouts: {
      ownedRules: (flag) => rollouts.ownedRules(flag),
      release: (id, action, actor) => rollouts.release(id, action, actor),
    },
    clock,
    announce,
    ...(config.previewSampleSize !== undefined ? { previewSampleSize: config.previewSampleSize } : {}),
  });
  const segments = new SegmentsService({ segments: stores.segments, flags: stores.flags, clock, announce });
  const metricsService = new MetricsService({ metrics: stores.metrics, surfaces: stores.surfaces, clock });
  const surfaces = new SurfacesService({
    surfaces: stores.surfaces,
    metrics: stores.metrics,
    flags: stores.flags,
    clock,
    readAnalysis: (id, attempt) => stores.rollouts.readAnalysis(id, attempt),
    announce,
  });
  const sessions = new SessionsService({
    store: stores.people,
    clock,
    ttlMs: config.people?.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
  });
  const access = new AccessService({
    store: stores.people,
    clock,
    groupRoles: config.people?.groupRoles ?? [],
    environmentExists: async (key) => (await stores.environments.get(key)) !== undefined,
  });
  const approvals = new ApprovalsService({
    store: stores.people,
    audit: stores.audit,
    clock,
    load: async (type, id) =>
      type === 'rollout'
        ? reviewableRollout(await rollouts.get(id), null)
        : reviewableExperiment(await experiments.get(id)),
    flag: async (key) => {
      const record = await stores.flags.get(key);
      return record === undefined
        ? undefined
        : { document: record.flag as unknown as Record<string, unknown>, surface: record.flag.surface };
    },
    policy: async (key) => (await stores.surfaces.get(key))?.surface.approvals,
  });
  const webhooks = new WebhookNotifier(stores.webhooks, {
    urls: [],
    ...config.webhooks,
    logger: { warn: (object, message) => app.log.warn(object, message) },
    onOutcome: observeWebhookOutbox(metrics.registry, () => stores.webhooks.stats(), Date.now),
  });
  const rollouts = new RolloutsService({
    rollouts: stores.rollouts,
    flags: stores.flags,
    metrics: stores.metrics,
    surfaces: stores.surfaces,
    environments: stores.environments,
    clock,
    announce,
    approvals: {
      check: (record, action, nextReach) =>
        approvals.check('rollout', reviewableRollout(record, nextReach), action),
    },
    observer: {
      onDecision: (d) =>
        rolloutMetrics.decisions.inc({ action: d.action, rule: d.rule, applied: String(d.applied) }),
    },
    notices: webhooks,
  });
  const controller = new RolloutController({
    rollouts,
    ...(stores.leases !== undefined ? { leases: stores.leases } : {}),
    leaseMs: config.controllerLeaseMs ?? DEFAULT_CONTROLLER_LEASE_MS,
    logger: {
      error: (object, message) => app.log.error(object, message),
      warn: (object, message) => app.log.warn(object, message),
    },
    onTick: ({ ran }) => rolloutMetrics.controllerTicks.inc({ ran: String(ran) }),
    onFenced: () => rolloutMetrics.controllerFenced.inc(),
  });
  observeControllerLease(
    metrics.registry,
    () => stores.leases === undefined || controller.epoch !== undefined,
  );
  const experiments = new ExperimentsService({
    experiments: stores.experiments,
    flags: stores.flags,
    metrics: stores.metrics,
    surfaces: stores.surfaces,
    rollouts,
    readAnalysis: (id, attempt) => stores.rollouts.readAnalysis(id, attempt),
    clock,
    announce,
    approvals: {
      check: (record, action) => approvals.check('experiment', reviewableExperiment(record), action),
    },
  });
  const experimentController = new ExperimentController({
    experiments,
    ...(stores.leases !== undefined ? { leads: () => controller.leads() } : {}),
    logger: { error: (object, message) => app.log.error(object, message) },
  });
  // A store writing on a thread of its own starts it now, not with the first batch.
  await stores.events.ready?.();
  const pipeline = new EventPipeline({
    store: stores.events,
    clock,
    config: (environment) => hub.get(environment)?.compiled,
    limits: {
      // Stores writing on the serving thread (memory, SQLite without its writer thread) bound each transaction
      // in time; SQLite's writer thread bounds it too, more loosely, for the serving connection's writes waiting.
      targetTransactionMs:
        stores.kind === 'postgres'
          ? null
          : () =>
              stores.events.offThread === true ? WRITER_THREAD_TRANSACTION_MS : SERVING_THREAD_TRANSACTION_MS,
      maxInFlight: stores.events.offThread === true ? WRITER_THREAD_GROUPS_IN_FLIGHT : 1,
      ...config.ingestion,
    },
  });
  const exposureBuffer =
    deps.exposures === undefined
      ? new ExposureBuffer(pipeline, clock, {
          onError: (error, dropped) => app.log.warn({ err: error, dropped }, 'server-side exposures dropped'),
        })
      : undefined;

  const generated = await keys.bootstrapAdminToken(deps.adminToken);
  if (generated !== undefined) deps.onAdminTokenCreated?.(generated);
  const createdEnvironments = await environments.ensureDefaults();
  await hub.load();
  await keys.reloadClientKeys();
  const reloadKeys = () => {
    keys
      .reloadClientKeys()
      .catch((error: unknown) => app.log.warn({ err: error }, 'client key reload failed'));
  };
  keys.startKeyReload(config.keysReloadMs ?? DEFAULT_KEYS_RELOAD_MS, (error) =>
    app.log.warn({ err: error }, 'client key reload failed'),
  );
  let stopWatching: (() => Promise<void>) | undefined;
  // Readiness across nodes: the LISTEN connection is up, and the config was re-read after it last reconnected.
  const follow = {
    listening: true,
    synced: true,
    closed: false,
    retry: undefined as NodeJS.Timeout | undefined,
  };
  const resyncAfterReconnect = (): void => {
    follow.synced = false;
    hub.resync().then(
      () => {
        follow.synced = true;
      },
      (error: unknown) => {
        app.log.error({ err: error }, 'config resync failed; retrying');
        if (follow.closed) return;
        follow.retry = setTimeout(resyncAfterReconnect, RESYNC_RETRY_MS);
        follow.retry.unref();
      },
    );
  };
  if (stores.watchConfig) {
    follow.listening = false;
    stopWatching = await stores.watchConfig({
      onChange: (change) => {
        hub.apply([change]).catch((error: unknown) => app.log.error({ err: error }, 'config reload failed'));
      },
      onResync: () => {
        if (follow.retry !== undefined) clearTimeout(follow.retry);
        resyncAfterReconnect();
      },
      onKeysChange: reloadKeys,
      onListenerState: (listening) => {
        follow.listening = listening;
      },
    });
    hub.startPolling(config.configPollMs ?? DEFAULT_CONFIG_POLL_MS);
  }
  const notFollowingReason = (): string | undefined => {
    if (!follow.listening)
      return 'not listening for config changes of other nodes (the PostgreSQL LISTEN connection is down)';
    if (!follow.synced) return 'config changes listener reconnected; config not re-read yet';
    return undefined;
  };
  app.decorate('dimmer', {
    hub,
    stores,
    keys,
    rollouts,
    controller,
    experiments,
    experimentController,
    webhooks,
    events: pipeline,
    createdEnvironments,
  });
  observeRolloutStatuses(metrics.registry, () => stores.rollouts.list());
  observeRolloutAlarms(metrics.registry, () => rollouts.alarms());
  observeIngestion(metrics.registry, pipeline);
  app.decorateRequest('adminActor', '');
  app.decorateRequest('adminPrincipal', null);
  const maxEventAgeMs = config.eventLimits?.maxAgeMs ?? DEFAULT_EVENT_LIMITS.maxAgeMs;
  const pruneIntervalMs = config.pruneIntervalMs ?? DEFAULT_PRUNE_INTERVAL_MS;
  const pruneTimer =
    pruneIntervalMs > 0
      ? setInterval(() => {
          stores.events
            .prune(clock.now() - maxEventAgeMs - RAW_EVENT_RETENTION_SLACK_MS)
            .catch((error: unknown) => app.log.error({ err: error }, 'pruning raw events failed'));
          sessions
            .prune()
            .catch((error: unknown) => app.log.error({ err: error }, 'pruning expired sessions failed'));
        }, pruneIntervalMs)
      : undefined;
  pruneTimer?.unref();
  controller.start(config.controllerIntervalMs ?? DEFAULT_CONTROLLER_INTERVAL_MS);
  webhooks.start();
  experimentController.start(config.controllerIntervalMs ?? DEFAULT_CONTROLLER_INTERVAL_MS);
  app.addHook('onClose', async () => {
    await controller.stop();
    await experimentController.stop();
    await webhooks.close();
    if (pruneTimer !== undefined) clearInterval(pruneTimer);
    await exposureBuffer?.close();
    await pipeline.drain();
    follow.closed = true;
    if (follow.retry !== undefined) clearTimeout(follow.retry);
    await stopWatching?.();
    keys.stopKeyReload();
    hub.close();
  });

  await registerOpsRoutes(app, {
    ping: () => stores.ping(),
    hubLoaded: () => hub.loaded,
    registry: metrics.registry,
    notFollowingReason,
  });
  await app.register(
    async (admin) => {
      requireAdmin(
        admin,
        createAdminAuthenticator({
          tokens: keys,
          sessions,
          access,
          environmentOf: async (source, id) =>
            source === 'rollout'
              ? (await stores.rollouts.get(id))?.environment
              : source === 'experiment'
                ? (await stores.experiments.get(id))?.environment
                : (await stores.keys.getClientKey(id))?.environment,
        }),
      );
      await registerPeopleRoutes(admin, {
        access,
        sessions,
        approvals,
        environmentKeys: async () => (await stores.environments.list()).map((e) => e.key),
      });
      await registerEnvironmentRoutes(admin, environments);
      await registerFlagRoutes(admin, flags);
      await registerSegmentRoutes(admin, segments);
      await registerMetricRoutes(admin, metricsService);
      await registerSurfaceRoutes(admin, surfaces);
      await registerRolloutRoutes(admin, rollouts);
      await registerExperimentRoutes(admin, experiments, rollouts);
      await registerKeyRoutes(admin, keys);
      await registerAuditRoutes(admin, stores.audit);
    },
    { prefix: API_PREFIX },
  );

  const oidcSettings = config.people?.oidc;
  await registerAuthRoutes(app, {
    oidc: oidcSettings === undefined ? undefined : new OidcClient(oidcSettings),
    sessions,
    secureCookies: config.people?.secureCookies ?? oidcSettings?.redirectUrl.startsWith('https:') === true,
  });

  const sdkDeps: SdkDeps = {
    hub,
    authenticateClientKey: (rawKey, keyHash) => keys.resolveClientKey(rawKey, keyHash),
    now: () => clock.now(),
    streamHeartbeatMs: config.streamHeartbeatMs,
    exposures: deps.exposures ?? (exposureBuffer as ExposureBuffer).sink,
  };
  await registerSdkRoutes(app, sdkDeps, config.streamLimits);
  await registerResolveRoutes(app, sdkDeps);
  await registerOfrepRoutes(app, sdkDeps);
  const requestLogAtDebug =
    (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('debug') === true;
  if (config.fastPaths !== false && !requestLogAtDebug) {
    const paths = new FastPaths({
      routes: [...ofrepFastRoutes(sdkDeps), resolveFastRoute(sdkDeps)],
      authenticate: sdkDeps.authenticateClientKey,
      gate,
      parseJson,
      metrics: metrics.requests,
      log: app.log,
    });
    // Fastify answers every request (503) once the app is closing.
    app.addHook('preClose', (done) => {
      paths.closing = true;
      done();
    });
    fastPaths = paths;
  }
  await registerEventRoutes(app, {
    sdk: sdkDeps,
    pipeline,
    checkExposures: config.checkExposures !== false,
    quotas: new EventQuotas(clock, config.eventsPerMinutePerKey ?? DEFAULT_EVENTS_PER_MINUTE_PER_KEY),
    ...(config.eventLimits !== undefined ? { limits: config.eventLimits } : {}),
    ...(config.eventsMaxInFlight !== undefined
      ? { admission: { maxInFlight: config.eventsMaxInFlight } }
      : {}),
  });
  if (config.dashboardDir !== false)
    await registerDashboard(app, config.dashboardDir ?? DEFAULT_DASHBOARD_DIR);
  await app.ready();
  return app;
}
