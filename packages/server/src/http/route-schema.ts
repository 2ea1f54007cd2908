/**
 * Fastify route schemas from the contract's route table: params, query, body, the success reply and the error
 * replies of a `ROUTES` entry, with its tag, summary and security. The OpenAPI document is built from them.
 */
import { ROUTES, type RouteContract } from '@dimmer/api';
import type { SwaggerTransform } from '@fastify/swagger';
import { type TNull, type TSchema, Type } from 'typebox';

const SECURITY = {
  admin: [{ adminToken: [] }],
  client: [{ clientKey: [] }],
  none: undefined,
} as const;

type Part<R, K extends string> = R extends { [P in K]: infer S extends TSchema } ? { [P in K]: S } : unknown;
/** A body the handler parses itself is documented (see `openApiTransform`) but not validated by Fastify. */
type BodyPart<R> = R extends { bodyParsedBy: 'handler' } ? unknown : Part<R, 'body'>;
/** A reply without a body (204) is declared as `null`, as Fastify sends it. */
type SuccessReply<R extends RouteContract> = R['replyContentType'] extends string
  ? unknown
  : { [S in R['status']]: R['reply'] extends TSchema ? R['reply'] : TNull };

type NotModified<R> = R extends { notModified: true } ? { 304: TNull } : unknown;

/** The Fastify schema of one route; the TypeBox type provider infers params, query, body and reply from it. */
export type RouteSchema<R extends RouteContract> = {
  tags: string[];
  summary: string;
  security?: { [name: string]: string[] }[];
  response: SuccessReply<R> & NotModified<R> & R['errors'];
} & Part<R, 'params'> &
  Part<R, 'querystring'> &
  BodyPart<R>;

/** The Fastify schema of a route from its contract entry. */
export function routeSchema<const R extends RouteContract>(route: R): RouteSchema<R> {
  const security = SECURITY[route.auth];
  return {
    tags: [route.tag],
    summary: route.summary,
    ...(security !== undefined ? { security: security.map((s) => ({ ...s })) } : {}),
    ...(route.params !== undefined ? { params: route.params } : {}),
    ...(route.querystring !== undefined ? { querystring: route.querystring } : {}),
    ...(route.body !== undefined && route.bodyParsedBy !== 'handler' ? { body: route.body } : {}),
    response: {
      ...(route.replyContentType === undefined ? { [route.status]: route.reply ?? Type.Null() } : {}),
      ...(route.notModified === true
        ? { 304: Type.Null({ description: 'Not modified (matching If-None-Match)' }) }
        : {}),
      ...route.errors,
    },
  } as unknown as RouteSchema<R>;
}

const HANDLER_PARSED_BODIES: ReadonlyMap<string, TSchema> = new Map(
  Object.values(ROUTES as Readonly<Record<string, RouteContract>>).flatMap((route) =>
    route.bodyParsedBy === 'handler' && route.body !== undefined
      ? [[`${route.method} ${route.path}`, route.body] as const]
      : [],
  ),
);

/**
 * Adds to the OpenAPI document the body of the routes whose handler parses it (events, resolve, OFREP): Fastify
 * does not validate it, so per-event rejections and OFREP's error shapes stay the handler's.
 */
export const openApiTransform: SwaggerTransform = ({ schema, url, route }) => {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const body = methods
    .map((method) => HANDLER_PARSED_BODIES.get(`${method} ${url}`))
    .find((found) => found !== undefined);
  return { schema: body === undefined ? schema : { ...schema, body }, url };
};
