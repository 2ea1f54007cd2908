import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildTestApp } from '../../testing/test-app.ts';

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
