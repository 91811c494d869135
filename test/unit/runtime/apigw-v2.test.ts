import { APIGatewayProxyEventV2Schema } from '@aws-lambda-powertools/parser/schemas/api-gatewayv2';
import { describe, expect, it } from 'vitest';
import {
  buildHttpApiEvent,
  createRouter,
  formatRequestTime,
  type HttpRequestInput,
  InvalidLambdaResponseError,
  isTextContentType,
  parseQueryString,
  toHttpResponse,
} from '../../../local/runtime/apigw-v2.ts';
import { routes } from '../../../shared/topology.ts';

const request = (over: Partial<HttpRequestInput> = {}): HttpRequestInput => ({
  method: 'GET',
  url: '/users/u1/profile',
  rawHeaders: ['Host', '127.0.0.1:3000', 'User-Agent', 'vitest'],
  body: Buffer.alloc(0),
  sourceIp: '::ffff:127.0.0.1',
  protocol: 'HTTP/1.1',
  ...over,
});
const ctx = { accountId: '000000000000', apiId: 'local', stage: '$default', requestId: 'req-1' };
const match = createRouter(routes);

function eventFor(req: HttpRequestInput) {
  const hit = match(req.method, req.url.split('?')[0]!);
  if (hit.kind !== 'match') throw new Error(`no route for ${req.method} ${req.url}`);
  return buildHttpApiEvent(req, hit.route, hit.pathParameters, ctx);
}

describe('route matching', () => {
  it('matches topology routes, decodes path parameters, prefers literals', () => {
    const hit = match('GET', '/users/a%20b%2Fc/profile');
    expect(hit).toMatchObject({ kind: 'match', route: { path: '/users/{userId}/profile' } });
    expect(hit.kind === 'match' && hit.pathParameters).toEqual({ userId: 'a b/c' });
    const literal = createRouter([
      { method: 'GET', path: '/tracks/{trackId}', function: 'read-api' },
      { method: 'GET', path: '/tracks/popular', function: 'read-api' },
    ])('GET', '/tracks/popular');
    expect(literal).toMatchObject({ kind: 'match', route: { path: '/tracks/popular' }, pathParameters: {} });
  });

  it('tells unknown paths from known paths with another method', () => {
    expect(match('GET', '/nope')).toEqual({ kind: 'not-found' });
    expect(match('GET', '/users//profile')).toEqual({ kind: 'not-found' });
    expect(match('GET', '/genres/')).toEqual({ kind: 'not-found' });
    expect(match('DELETE', '/users/u1/profile')).toEqual({ kind: 'method-not-allowed', allow: ['GET'] });
    expect(match('GET', '/tracks')).toEqual({ kind: 'method-not-allowed', allow: ['POST'] });
  });

  it('supports greedy {proxy+} parameters', () => {
    const r = createRouter([{ method: 'ANY', path: '/files/{proxy+}', function: 'read-api' }]);
    expect(r('PUT', '/files/a/b%20c')).toMatchObject({ kind: 'match', pathParameters: { proxy: 'a/b c' } });
    expect(r('GET', '/files')).toEqual({ kind: 'not-found' });
  });
});

describe('payload format 2.0 event', () => {
  it('builds the exact event shape and passes the Powertools schema', () => {
    const now = new Date(Date.UTC(2020, 2, 12, 19, 3, 58, 390));
    const hit = match('GET', '/users/u%401/profile');
    if (hit.kind !== 'match') throw new Error('no match');
    const event = buildHttpApiEvent(
      request({ url: '/users/u%401/profile?limit=5&genre=rock&genre=jazz&q=a%20b&flag' }),
      hit.route,
      hit.pathParameters,
      { ...ctx, now },
    );
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /users/{userId}/profile',
      rawPath: '/users/u%401/profile',
      rawQueryString: 'limit=5&genre=rock&genre=jazz&q=a%20b&flag',
      queryStringParameters: { limit: '5', genre: 'rock,jazz', q: 'a b', flag: '' },
      pathParameters: { userId: 'u@1' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: '127.0.0.1',
        domainPrefix: '127',
        http: {
          method: 'GET',
          path: '/users/u%401/profile',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'vitest',
        },
        requestId: 'req-1',
        routeKey: 'GET /users/{userId}/profile',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: now.getTime(),
      },
    });
    expect(event).not.toHaveProperty('body');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('stageVariables');
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.headers['x-forwarded-port']).toBe('3000');
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(APIGatewayProxyEventV2Schema.safeParse(event).success).toBe(true);
  });

  it('omits queryStringParameters and pathParameters when there are none', () => {
    const event = eventFor(request({ url: '/genres' }));
    expect(event.rawQueryString).toBe('');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
  });

  it('lower-cases headers, joins repeats with commas and moves cookies out', () => {
    const event = eventFor(
      request({
        rawHeaders: ['Host', 'localhost', 'X-Multi', 'a', 'x-multi', 'b', 'Cookie', 'c1=v1; c2=v2', 'Accept', '*/*'],
      }),
    );
    expect(event.headers).toMatchObject({ host: 'localhost', 'x-multi': 'a,b', accept: '*/*' });
    expect(event.headers).not.toHaveProperty('cookie');
    expect(event.cookies).toEqual(['c1=v1', 'c2=v2']);
    expect(event.requestContext.domainPrefix).toBe('localhost');
  });

  it('passes text-like bodies as text and everything else as base64', () => {
    const json = eventFor(
      request({
        method: 'POST',
        url: '/events',
        rawHeaders: ['Content-Type', 'application/json; charset=utf-8'],
        body: Buffer.from('{"a":"é"}'),
      }),
    );
    expect(json).toMatchObject({ body: '{"a":"é"}', isBase64Encoded: false });

    const bytes = Buffer.from([0, 1, 2, 255]);
    for (const type of ['application/octet-stream', 'application/x-www-form-urlencoded', undefined]) {
      const event = eventFor(
        request({ method: 'POST', url: '/events', rawHeaders: type ? ['Content-Type', type] : [], body: bytes }),
      );
      expect(event, String(type)).toMatchObject({ body: bytes.toString('base64'), isBase64Encoded: true });
    }
    expect(isTextContentType('text/csv')).toBe(true);
    expect(isTextContentType('application/xml')).toBe(true);
    expect(isTextContentType('image/png')).toBe(false);
  });

  it('formats request time like API Gateway', () => {
    expect(formatRequestTime(new Date(Date.UTC(2024, 0, 5, 3, 4, 5)))).toBe('05/Jan/2024:03:04:05 +0000');
    expect(parseQueryString('')).toBeUndefined();
    expect(parseQueryString('a=%E0%A4%A&b=1')).toEqual({ a: '%E0%A4%A', b: '1' });
  });
});

describe('handler result conversion', () => {
  it('infers a 200 JSON response from a string or an object without statusCode', () => {
    expect(toHttpResponse('Hello from Lambda!')).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from('Hello from Lambda!'),
    });
    const obj = toHttpResponse({ message: 'hi', n: [1] });
    expect(obj.statusCode).toBe(200);
    expect(obj.headers['content-type']).toBe('application/json');
    expect(JSON.parse(obj.body.toString())).toEqual({ message: 'hi', n: [1] });
    expect(toHttpResponse(undefined).body.toString()).toBe('null');
  });

  it('passes structured responses through, with cookies and base64 bodies', () => {
    const out = toHttpResponse({
      statusCode: 201,
      headers: { 'Content-Type': 'image/png', 'X-Count': 3, 'x-ok': true },
      cookies: ['a=1; Path=/', 'b=2'],
      body: Buffer.from([137, 80, 78, 71]).toString('base64'),
      isBase64Encoded: true,
    });
    expect(out).toEqual({
      statusCode: 201,
      headers: { 'content-type': 'image/png', 'x-count': '3', 'x-ok': 'true' },
      cookies: ['a=1; Path=/', 'b=2'],
      body: Buffer.from([137, 80, 78, 71]),
    });
    expect(toHttpResponse({ statusCode: 204 }).body.length).toBe(0);
  });

  it('rejects malformed structured responses (API Gateway answers 500)', () => {
    expect(() => toHttpResponse({ statusCode: 'abc' })).toThrow(InvalidLambdaResponseError);
    expect(() => toHttpResponse({ statusCode: 200, body: { not: 'a string' } })).toThrow(InvalidLambdaResponseError);
    expect(() => toHttpResponse({ statusCode: 200, headers: { a: { b: 1 } } })).toThrow(InvalidLambdaResponseError);
  });
});
