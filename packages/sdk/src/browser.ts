/**
 * The browser (and edge-runtime) build of the Dimmer SDK: no `node:*` imports. `createBrowserClient`
 * resolves flags on the server for one user; `createClient` evaluates locally (needs a server key, so it
 * suits edge runtimes rather than public web pages).
 */

export * from './admin.ts';
export { createClient } from './client.ts';
export * from './shared.ts';
