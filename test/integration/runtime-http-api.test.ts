// biome-ignore-all lint/style/noRestrictedGlobals: this file tests the runtime's API Gateway emulation with stand-in handlers whose answers are not the API's; raw fetch is the point
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AccessLogEntry, type HttpApi, startHttpApi } from '../../local/runtime/http-api.ts';
import { routes } from '../../shared/topology.ts';
import { provisionedTestEnv, type TestEnv } from '../support/infra.ts';

describe('local HTTP API (payload format 2.0)', () => {
  let t: TestEnv;
  let api: HttpApi;
  let secured: HttpApi;
  const events: APIGatewayProxyEventV2[] = [];
  const access: AccessLogEntry[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    t = await provisionedTestEnv('http');
    const db = t.documentClient();
    const TableName = t.topology.tableNames.profiles;
    // A stand-in for read-api / ingest-events: real DynamoDB Local behind the API.
    const invoke = async (fn: string, event: APIGatewayProxyEventV2) => {
      events.push(event);
      if (event.headers['x-test-throw']) throw new Error('handler exploded');
      if (event.routeKey === 'GET /users/{userId}/profile') {
        const { Item } = await db.send(new GetCommand({ TableName, Key: { userId: event.pathParameters!.userId } }));
        return Item ? { fn, profile: Item } : { statusCode: 404, body: JSON.stringify({ message: 'no profile' }) };
      }
      if (event.routeKey === 'POST /events') {
        return {
          statusCode: 202,
          headers: { 'content-type': 'application/json', 'x-accepted': 1 },
          cookies: ['session=abc; Path=/', 'theme=dark'],
          body: JSON.stringify({ accepted: true }),
        };
      }
      return 'plain string';
    };
    api = await startHttpApi({
      routes,
      invoke,
      port: 0,
      log: (l) => lines.push(l),
      onAccess: (e) => access.push(e),
    });
    secured = await startHttpApi({
      routes,
      invoke,
      port: 0,
      authToken: 's3cret',
      extraRoutes: [
        {
          path: '/openapi.json',
          handler: (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end('{"openapi":"3.1.0"}');
          },
        },
      ],
    });
    await db.send(new PutCommand({ TableName, Item: { userId: 'u 1', genres: { rock: 1 } } }));
  });

  afterAll(async () => {
    await api?.close();
    await secured?.close();
  });

  it('turns a request into the 2.0 event and infers a JSON 200 from a plain object', async () => {
    const res = await fetch(`${api.url}/users/u%201/profile?limit=5&g=rock&g=jazz`, {
      headers: { 'X-Custom': 'A', cookie: 'a=1; b=2' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('apigw-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ fn: 'read-api', profile: { userId: 'u 1', genres: { rock: 1 } } });
    const event = events.at(-1)!;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /users/{userId}/profile',
      rawPath: '/users/u%201/profile',
      rawQueryString: 'limit=5&g=rock&g=jazz',
      queryStringParameters: { limit: '5', g: 'rock,jazz' },
      pathParameters: { userId: 'u 1' },
      cookies: ['a=1', 'b=2'],
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET', sourceIp: '127.0.0.1', protocol: 'HTTP/1.1' }, stage: '$default' },
    });
    expect(event.headers['x-custom']).toBe('A');
    expect(event.requestContext.requestId).toBe(res.headers.get('apigw-requestid'));
  });

  it('returns structured results with headers, cookies and status', async () => {
    const res = await fetch(`${api.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [] }),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-accepted')).toBe('1');
    expect(res.headers.getSetCookie()).toEqual(['session=abc; Path=/', 'theme=dark']);
    expect(await res.json()).toEqual({ accepted: true });
    expect(events.at(-1)).toMatchObject({ body: '{"events":[]}', isBase64Encoded: false });
    const missing = await fetch(`${api.url}/users/nobody/profile`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ message: 'no profile' });
  });

  it('base64-encodes binary bodies', async () => {
    const bytes = Buffer.from([0, 159, 146, 150, 255]);
    await fetch(`${api.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const event = events.at(-1)!;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('answers 404, 405, 500 and 413 like API Gateway', async () => {
    const notFound = await fetch(`${api.url}/nope`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toEqual({ message: 'Not Found' });

    const wrongMethod = await fetch(`${api.url}/users/u1/profile`, { method: 'DELETE' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');

    const crash = await fetch(`${api.url}/genres`, { headers: { 'x-test-throw': '1' } });
    expect(crash.status).toBe(500);
    expect(await crash.json()).toEqual({ message: 'Internal Server Error' });
    expect(lines.some((l) => l.includes('handler exploded'))).toBe(true);

    const before = events.length;
    const tooLarge = await fetch(`${api.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(10 * 1024 * 1024 + 1, 0x20),
    });
    expect(tooLarge.status).toBe(413);
    expect(events.length).toBe(before);
    const atLimit = await fetch(`${api.url}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.alloc(10 * 1024 * 1024, 0x20),
    });
    expect(atLimit.status).toBe(202);
  });

  it('requires the bearer token when configured, telling missing from wrong', async () => {
    const missing = await fetch(`${secured.url}/genres`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ message: 'Unauthorized', reason: expect.stringContaining('missing') });

    const wrong = await fetch(`${secured.url}/genres`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      message: 'Unauthorized',
      reason: expect.stringContaining('does not match'),
    });

    const ok = await fetch(`${secured.url}/genres`, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('plain string');

    // Extra routes bypass the Lambda conversion and are public by default; unknown paths stay 404.
    const docs = await fetch(`${secured.url}/openapi.json`);
    expect(docs.status).toBe(200);
    expect(await docs.json()).toEqual({ openapi: '3.1.0' });
    expect((await fetch(`${secured.url}/nope`)).status).toBe(404);
  });

  it('writes one access log entry per request', () => {
    const entry = access.find((a) => a.path === '/users/u%201/profile');
    expect(entry).toMatchObject({ method: 'GET', status: 200, routeKey: 'GET /users/{userId}/profile' });
    expect(entry!.ms).toBeGreaterThanOrEqual(0);
    expect(lines.some((l) => /^\[http\] DELETE \/users\/u1\/profile 405 [\d.]+ms$/.test(l))).toBe(true);
  });
});
