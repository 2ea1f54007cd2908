/**
 * The composition root: builds the Fastify app from its dependencies (stores, clock, logger, config),
 * wires every feature, loads the config hub and starts following changes from other nodes.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerAuditRoutes } from './audit/audit.routes.ts';
import type { Clock } from './clock.ts';
import { StoreConfigHub } from './config/config-hub.ts';
import { registerEnvironmentRoutes } from './environments/environments.routes.ts';
import { EnvironmentsService } from './environments/environments.service.ts';
import { registerFlagRoutes } from './flags/flags.routes.ts';
import { FlagsService } from './flags/flags.service.ts';
import { requireAdmin } from './http/admin-auth.ts';
import { installErrorHandlers } from './http/error-handler.ts';
import { installMetrics } from './http/metrics.ts';
import { registerOpsRoutes } from './http/ops.routes.ts';
import { DEFAULT_RATE_LIMIT_PER_MINUTE, installRateLimit } from './http/rate-limit.ts';
import { registerKeyRoutes } from './keys/keys.routes.ts';
import { KeysService } from './keys/keys.service.ts';
import { registerOfrepRoutes } from './ofrep/ofrep.routes.ts';
import { registerSdkRoutes } from './sdk/sdk.routes.ts';
import type { ExposureSink, SdkDeps } from './sdk-deps.ts';
import { registerSegmentRoutes } from './segments/segments.routes.ts';
import { SegmentsService } from './segments/segments.service.ts';
import type { ConfigChange, Stores } from './storage/stores.ts';

/** Largest admin request body, in bytes. */
export const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;
/** Default SSE heartbeat interval, in milliseconds. */
export const DEFAULT_STREAM_HEARTBEAT_MS = 15_000;
export const API_PREFIX = '/api/v1';

export interface AppConfig {
  /** Requests per minute per key or IP on the rate-limited (SDK and OFREP) routes. */
  rateLimitPerMinute: number;
  bodyLimitBytes: number;
  streamHeartbeatMs: number;
  /** Units in the split-change preview sample (100,000 unless a test wants it faster). */
  previewSampleSize?: number;
}

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
  /** Environments created on this start because the store had none. */
  createdEnvironments: string[];
}

declare module 'fastify' {
  interface FastifyInstance {
    dimmer: DimmerContext;
  }
}

/** Builds the app; it is ready to listen or inject. Closing the app stops the hub and listeners, not the stores. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const config: AppConfig = {
    rateLimitPerMinute: DEFAULT_RATE_LIMIT_PER_MINUTE,
    bodyLimitBytes: ADMIN_BODY_LIMIT_BYTES,
    streamHeartbeatMs: DEFAULT_STREAM_HEARTBEAT_MS,
    ...deps.config,
  };
  const app = Fastify({
    logger: deps.logger ?? false,
    bodyLimit: config.bodyLimitBytes,
    forceCloseConnections: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
  });
  installErrorHandlers(app);

  await app.register(swagger, {
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
  await installRateLimit(app, config.rateLimitPerMinute);
  const metrics = installMetrics(app);

  const { stores, clock } = deps;
  const hub = new StoreConfigHub({
    store: stores.config,
    listEnvironments: async () => (await stores.environments.list()).map((e) => e.key),
    onSwap: (state) => metrics.configVersion.set({ environment: state.environment }, state.version),
    logger: app.log,
  });
  const announce = (changes: readonly ConfigChange[]) => hub.apply(changes);
  const keys = new KeysService({ keys: stores.keys, environments: stores.environments, clock });
  const environments = new EnvironmentsService({ environments: stores.environments, clock, announce });
  const flags = new FlagsService({
    flags: stores.flags,
    segments: stores.segments,
    environments: stores.environments,
    clock,
    announce,
    ...(config.previewSampleSize !== undefined ? { previewSampleSize: config.previewSampleSize } : {}),
  });
  const segments = new SegmentsService({ segments: stores.segments, flags: stores.flags, clock, announce });

  const generated = await keys.bootstrapAdminToken(deps.adminToken);
  if (generated !== undefined) deps.onAdminTokenCreated?.(generated);
  const createdEnvironments = await environments.ensureDefaults();
  await hub.load();
  let stopWatching: (() => Promise<void>) | undefined;
  if (stores.watchConfig) {
    stopWatching = await stores.watchConfig({
      onChange: (change) => {
        hub.apply([change]).catch((error: unknown) => app.log.error({ err: error }, 'config reload failed'));
      },
      onResync: () => {
        hub.resync().catch((error: unknown) => app.log.error({ err: error }, 'config resync failed'));
      },
    });
  }
  app.decorate('dimmer', { hub, stores, keys, createdEnvironments });
  app.decorateRequest('adminActor', '');
  app.addHook('onClose', async () => {
    await stopWatching?.();
    hub.close();
  });

  await registerOpsRoutes(app, {
    ping: () => stores.ping(),
    hubLoaded: () => hub.loaded,
    registry: metrics.registry,
  });
  await app.register(
    async (admin) => {
      requireAdmin(admin, keys);
      await registerEnvironmentRoutes(admin, environments);
      await registerFlagRoutes(admin, flags);
      await registerSegmentRoutes(admin, segments);
      await registerKeyRoutes(admin, keys);
      await registerAuditRoutes(admin, stores.audit);
    },
    { prefix: API_PREFIX },
  );

  const sdkDeps: SdkDeps = {
    hub,
    authenticateClientKey: (rawKey) => keys.authenticateClientKey(rawKey),
    now: () => clock.now(),
    streamHeartbeatMs: config.streamHeartbeatMs,
    ...(deps.exposures !== undefined ? { exposures: deps.exposures } : {}),
  };
  await registerSdkRoutes(app, sdkDeps);
  await registerOfrepRoutes(app, sdkDeps);
  await app.ready();
  return app;
}
