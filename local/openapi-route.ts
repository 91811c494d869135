/**
 * GET /openapi.json on the local HTTP API (public, like API docs usually are): the committed
 * openapi.json at the repository root, which `npm run openapi` (tools/openapi.ts) writes from the
 * zod schemas and test/unit/openapi.test.ts keeps current. Served as a file, so the runtime does
 * not depend on the generator (tools/ builds on local/, not the other way round).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ExtraRoute } from './runtime/http-api.ts';

const OPENAPI_JSON = resolve(import.meta.dirname, '..', 'openapi.json');

export function openApiRoute(file = OPENAPI_JSON): ExtraRoute {
  const body = readFileSync(file);
  return {
    path: '/openapi.json',
    handler: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
    },
  };
}
