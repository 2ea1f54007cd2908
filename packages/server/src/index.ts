/**
 * The server package's public surface: `buildApp` (composition root), `startServer` (used by `npm start`,
 * `dimmer serve` and tests), `createTestServer`, the settings reader and the storage adapters.
 */
export type { AppConfig, AppDeps, DimmerContext } from './app.ts';
export { API_PREFIX, buildApp } from './app.ts';
export type { Clock } from './clock.ts';
/** The deciding test's interval of a stored metric look (log-ratio scale), as the API shows it. */
export { relativeChangeOf } from './rollouts/index.ts';
export {
  createTestServer,
  type RunningServer,
  type StartOptions,
  startServer,
  type TestServer,
  type TestServerOptions,
} from './server.ts';
export {
  appConfigFromSettings,
  DEFAULT_HOST,
  DEFAULT_PORT,
  readSettings,
  type ServerSettings,
} from './settings.ts';
export { describeStartError, StartError } from './start-errors.ts';
export { formatStartupBanner, startFromSettings } from './startup.ts';
export { createMemoryStores, createPostgresStores, createSqliteStores, type Stores } from './stores.ts';
