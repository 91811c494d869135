import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../shared/topology.ts';
import { OPENAPI_FILE, openApiDocument, renderOpenApi } from '../../tools/openapi.ts';

describe('openapi.json', () => {
  it('is up to date with the zod schemas and the topology (run `npm run openapi`)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
  });

  it('describes every route, secured, with JSON responses for success and 401', () => {
    const doc = openApiDocument() as {
      openapi: string;
      paths: Record<string, Record<string, { security: unknown[]; responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    for (const r of routes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      // ListenBrainz routes: a listener's own token, and ListenBrainz's 200 for accepted listens.
      const userToken = 'auth' in r && r.auth === 'user-token';
      expect(op!.security).toEqual([userToken ? { userToken: [] } : { bearer: [] }]);
      expect(Object.keys(op!.responses)).toEqual(
        expect.arrayContaining([r.method === 'POST' && !userToken ? '202' : '200', '401']),
      );
    }
  });

  it('request schemas come from the zod schemas the handlers use', () => {
    const schemas = (
      openApiDocument() as {
        components: {
          schemas: Record<string, { required?: string[]; properties: Record<string, { enum?: string[] }> }>;
        };
      }
    ).components.schemas;
    const listen = schemas.ListenEventInput!;
    expect(listen.required).toEqual(expect.arrayContaining(['userId', 'ts', 'type']));
    expect(listen.required).not.toContain('eventId');
    expect(listen.properties.type!.enum).toEqual(['play', 'skip', 'like', 'dislike']);
  });
});
