/**
 * The one HTTP contract of Dimmer: TypeBox schemas (validation, serialization, OpenAPI) and their static
 * types for every admin, SDK, OFREP and events request and reply, the error body, the status enums, and the
 * route table the server is built from.
 */
export * from './admin.ts';
export * from './common.ts';
export * from './documents.ts';
export * from './experiments.ts';
export * from './ofrep.ts';
export * from './people.ts';
export * from './rollouts.ts';
export * from './routes.ts';
export * from './sdk.ts';
