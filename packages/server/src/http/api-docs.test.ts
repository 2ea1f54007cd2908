import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../testing/test-app.ts';

type Schema = Record<string, unknown>;
interface Operation {
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

const SHAPE_KEYWORDS = ['type', 'properties', 'anyOf', 'oneOf', 'allOf', 'enum', 'const', '$ref', 'items'];

/** True when a schema says nothing about its value: `{}`, a bare description, or an open object without properties. */
function isShapeless(schema: Schema | undefined): boolean {
  if (schema === undefined) return true;
  if (!SHAPE_KEYWORDS.some((k) => k in schema)) return true;
  const properties = schema.properties as Record<string, unknown> | undefined;
  const noProperties = properties === undefined || Object.keys(properties).length === 0;
  return (
    schema.type === 'object' &&
    noProperties &&
    schema.additionalProperties !== false &&
    !('patternProperties' in schema)
  );
}

/** Every operation whose JSON request body (when it has one) or JSON success reply is shapeless. */
function shapelessOperations(doc: OpenApiDocument): string[] {
  const found: string[] = [];
  for (const [path, operations] of Object.entries(doc.paths))
    for (const [method, operation] of Object.entries(operations)) {
      const route = `${method.toUpperCase()} ${path}`;
      const body = operation.requestBody?.content?.['application/json'];
      if (body !== undefined && isShapeless(body.schema)) found.push(`${route} body`);
      const success = Object.keys(operation.responses ?? {})
        .filter((status) => /^2\d\d$/.test(status))
        .sort()[0];
      const reply =
        success === undefined ? undefined : operation.responses?.[success]?.content?.['application/json'];
      if (reply !== undefined && isShapeless(reply.schema)) found.push(`${route} ${success} reply`);
    }
  return found;
}

async function openApiDocument(): Promise<OpenApiDocument> {
  const t = await buildTestApp();
  try {
    return (await t.app.inject({ url: '/api/openapi.json' })).json() as OpenApiDocument;
  } finally {
    await t.close();
  }
}

describe('the OpenAPI document', () => {
  it('gives every request body and success reply a shape', async () => {
    const doc = await openApiDocument();
    expect(shapelessOperations(doc)).toEqual([]);
    const events = doc.paths['/v1/events']?.post;
    expect(events?.requestBody?.content?.['application/json']?.schema).toBeDefined();
  });

  it('reports an unknown body, an open object and an empty reply', () => {
    const json = (schema: Schema) => ({ content: { 'application/json': { schema } } });
    const doc: OpenApiDocument = {
      paths: {
        '/a': {
          post: {
            requestBody: json({ description: 'anything' }),
            responses: { 200: json({ type: 'string' }) },
          },
        },
        '/b': {
          put: { requestBody: json({ type: 'object', additionalProperties: true }), responses: { 204: {} } },
        },
        '/c': { get: { responses: { 201: json({}), 400: json({}) } } },
        '/d': {
          post: {
            requestBody: json({
              type: 'object',
              properties: { k: { type: 'string' } },
              additionalProperties: true,
            }),
            responses: { 200: json({ type: 'object', patternProperties: { '^.*$': { type: 'number' } } }) },
          },
        },
      },
    };
    expect(shapelessOperations(doc)).toEqual(['POST /a body', 'PUT /b body', 'GET /c 201 reply']);
  });
});

const README = join(import.meta.dirname, '../../../../docs/api/README.md');

describe('docs/api/README.md', () => {
  it('lists every route of the OpenAPI document', async () => {
    const t = await buildTestApp();
    try {
      const doc = (await t.app.inject({ url: '/api/openapi.json' })).json() as {
        paths: Record<string, Record<string, unknown>>;
      };
      const text = readFileSync(README, 'utf8');
      const missing: string[] = [];
      for (const [path, operations] of Object.entries(doc.paths))
        for (const method of Object.keys(operations)) {
          if (method === 'options' || method === 'head') continue;
          const route = `${method.toUpperCase()} ${path}`;
          if (!text.includes('`' + route + '`')) missing.push(route);
        }
      expect(missing).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
