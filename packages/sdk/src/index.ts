/**
 * The Node build of the Dimmer SDK: everything of the browser build, with a `createClient` that also
 * reads bootstrap files and keeps the last good config in a file.
 */

export * from './admin.ts';
export type { NodeClientOptions } from './node.ts';
export { createClient, fileCache, readSnapshotFile } from './node.ts';
export * from './shared.ts';
