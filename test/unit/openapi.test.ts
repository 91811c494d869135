import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routes } from '../../shared/topology.ts';
import { OPENAPI_FILE, openApiDocument, openApiDrift, renderOpenApi } from '../../tools/openapi.ts';

describe('openapi.json', () => {
  it('is up to date with the zod schemas and the topology (run `npm run openapi`)', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    // The routes and schemas that drifted first, by name; then the text itself (formatting).
    expect(
      openApiDrift(JSON.parse(committed), openApiDocument()),
      'openapi.json is stale: run npm run openapi',
    ).toEqual([]);
    expect(committed).toBe(renderOpenApi());
  });

  it('names the routes a drifted document touches', () => {
    const generated = openApiDocument();
    const stale = structuredClone(generated) as {
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, { properties: Record<string, { properties: object }> }> };
    };
    // A field the deletion reports that the committed schema lacks (issue #26's finding).
    delete (stale.components.schemas.Forgotten!.properties.deleted!.properties as Record<string, unknown>).candidates;
    delete stale.paths['/genres'];
    stale.paths['/users/{userId}']!.get = { responses: {} };
    expect(openApiDrift(stale, generated)).toEqual([
      'GET /users/{userId}: in openapi.json, no longer a route',
      'GET /genres: a route missing from openapi.json',
      'schema Forgotten differs in openapi.json (used by DELETE /users/{userId})',
    ]);
    // A shared schema names every operation that reaches it, through other schemas too.
    const problem = structuredClone(generated) as typeof stale;
    problem.components.schemas.Rejected!.properties.message = { properties: {} };
    expect(openApiDrift(problem, generated)).toEqual([
      'schema Rejected differs in openapi.json (used by POST /events, POST /tracks)',
    ]);
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
