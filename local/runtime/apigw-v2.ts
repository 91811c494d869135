/**
 * API Gateway HTTP API, payload format 2.0: route matching, the Lambda event built from a request
 * and the HTTP response built from the handler's result. Pure functions (no sockets), so the rules
 * are unit-tested on their own; http-api.ts wires them to a Node server.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FunctionName } from '../../shared/topology.ts';

export interface RouteLike {
  readonly method: string;
  /** `{param}` placeholders; `{param+}` is greedy (the rest of the path), as in API Gateway. */
  readonly path: string;
  readonly function: FunctionName;
  /** `user-token`: checked by a Lambda request authorizer instead of the API's default auth. */
  readonly auth?: 'user-token';
}

export type RouteMatch<R extends RouteLike = RouteLike> =
  | { kind: 'match'; route: R; pathParameters: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'not-found' };

interface Compiled<R> {
  route: R;
  segments: string[];
  literals: number;
  greedy: boolean;
}

/** Compiles routes once; `match` returns the most specific route (literals beat params, greedy last). */
export function createRouter<R extends RouteLike>(
  routes: readonly R[],
): (method: string, rawPath: string) => RouteMatch<R> {
  const compiled: Compiled<R>[] = routes.map((route) => {
    const segments = route.path.split('/').slice(1);
    return {
      route,
      segments,
      literals: segments.filter((s) => !s.startsWith('{')).length,
      greedy: segments.some((s) => s.endsWith('+}')),
    };
  });
  compiled.sort((a, b) => Number(a.greedy) - Number(b.greedy) || b.literals - a.literals);

  return (method, rawPath) => {
    const parts = rawPath.split('/').slice(1);
    const matches: { c: Compiled<R>; params: Record<string, string> }[] = [];
    for (const c of compiled) {
      const params = matchSegments(c.segments, parts);
      if (params) matches.push({ c, params });
    }
    if (matches.length === 0) return { kind: 'not-found' };
    const hit = matches.find((m) => m.c.route.method === method.toUpperCase() || m.c.route.method === 'ANY');
    if (hit) return { kind: 'match', route: hit.c.route, pathParameters: hit.params };
    return { kind: 'method-not-allowed', allow: [...new Set(matches.map((m) => m.c.route.method))] };
  };
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i]!;
    if (t.startsWith('{') && t.endsWith('+}')) {
      const rest = parts.slice(i);
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      params[t.slice(1, -2)] = decodeSafe(rest.join('/'));
      return params;
    }
    const part = parts[i];
    if (part === undefined) return undefined;
    if (t.startsWith('{') && t.endsWith('}')) {
      if (part === '') return undefined;
      params[t.slice(1, -1)] = decodeSafe(part);
    } else if (t !== part) {
      return undefined;
    }
  }
  return template.length === parts.length ? params : undefined;
}

/** Malformed percent-escapes are passed through raw rather than failing the request. */
function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export interface HttpRequestInput {
  method: string;
  /** The request target as received: path plus optional `?query`. */
  url: string;
  /** Node's `req.rawHeaders`: alternating names and values, duplicates kept. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  /** e.g. `HTTP/1.1`. */
  protocol: string;
}

export interface EventContextOptions {
  accountId: string;
  apiId: string;
  stage: string;
  /** Injected by tests; defaults are a fresh uuid and now. */
  requestId?: string;
  now?: Date;
}

/**
 * Content types whose bodies API Gateway HTTP APIs pass as UTF-8 text; everything else (including a
 * missing content-type and application/x-www-form-urlencoded) arrives base64-encoded.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    mime.startsWith('text/') ||
    mime === 'application/json' ||
    mime === 'application/xml' ||
    mime === 'application/javascript'
  );
}

/** API Gateway's `requestContext.time` format: `12/Mar/2020:19:03:58 +0000`. */
export function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${p(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`
  );
}

/** Splits `path?query` without decoding either part. */
export function splitTarget(url: string): { rawPath: string; rawQueryString: string } {
  const q = url.indexOf('?');
  return q === -1
    ? { rawPath: url, rawQueryString: '' }
    : { rawPath: url.slice(0, q), rawQueryString: url.slice(q + 1) };
}

/** Duplicate keys joined with commas, values decoded; undefined when there are none (APIGW omits the field). */
export function parseQueryString(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeSafe(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decodeSafe(pair.slice(eq + 1));
    out[key] = key in out ? `${out[key]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Headers lower-cased and duplicates joined with commas; cookies moved to `cookies` (format 2.0
 * carries them there, not in `headers`).
 */
export function collectHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies?: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
      continue;
    }
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return cookies.length > 0 ? { headers, cookies } : { headers };
}

/** The exact event API Gateway (HTTP API, payload 2.0) sends for a request matched to `route`. */
export function buildHttpApiEvent(
  req: HttpRequestInput,
  route: RouteLike,
  pathParameters: Record<string, string>,
  opts: EventContextOptions,
): APIGatewayProxyEventV2 {
  const now = opts.now ?? new Date();
  const { rawPath, rawQueryString } = splitTarget(req.url);
  const { headers, cookies } = collectHeaders(req.rawHeaders);
  const sourceIp = req.sourceIp.replace(/^::ffff:/, '');
  // API Gateway adds the forwarding headers its integrations see.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  const host = headers.host ?? 'localhost';
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port) headers['x-forwarded-port'] ??= port;
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  const domainName = host.replace(/:\d+$/, '');
  const routeKey = `${route.method} ${route.path}`;
  const queryStringParameters = parseQueryString(rawQueryString);
  const hasBody = req.body.length > 0;
  const base64 = hasBody && !isTextContentType(headers['content-type']);

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: opts.accountId,
      apiId: opts.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0]!,
      http: {
        method: req.method.toUpperCase(),
        path: rawPath,
        protocol: req.protocol,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: opts.requestId ?? randomUUID(),
      routeKey,
      stage: opts.stage,
      time: formatRequestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    ...(hasBody ? { body: base64 ? req.body.toString('base64') : req.body.toString('utf8') } : {}),
    isBase64Encoded: base64,
  };
  return event;
}

export interface HttpResponseOut {
  statusCode: number;
  headers: Record<string, string>;
  /** Each becomes its own `set-cookie` header. */
  cookies: string[];
  body: Buffer;
}

export class InvalidLambdaResponseError extends Error {
  override name = 'InvalidLambdaResponseError';
}

/**
 * API Gateway's reading of a format 2.0 result: an object with `statusCode` is a structured response;
 * anything else is a 200 `application/json` whose body is the string itself or the value's JSON.
 * A malformed structured response throws (API Gateway answers 500).
 */
export function toHttpResponse(result: unknown): HttpResponseOut {
  if (typeof result === 'string') {
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, cookies: [], body: Buffer.from(result) };
  }
  if (result === null || typeof result !== 'object' || Array.isArray(result) || !('statusCode' in result)) {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(JSON.stringify(result ?? null)),
    };
  }
  const r = result as Record<string, unknown>;
  const status = typeof r.statusCode === 'string' ? Number(r.statusCode) : r.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599)
    throw new InvalidLambdaResponseError(`invalid statusCode ${JSON.stringify(r.statusCode)}`);
  const headers: Record<string, string> = {};
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object') throw new InvalidLambdaResponseError('headers must be an object');
    for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
      if (v === undefined || v === null) continue;
      if (typeof v === 'object')
        throw new InvalidLambdaResponseError(`header ${k} must be a string, number or boolean`);
      headers[k.toLowerCase()] = String(v);
    }
  }
  const cookies = r.cookies ?? [];
  if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string'))
    throw new InvalidLambdaResponseError('cookies must be an array of strings');
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string')
    throw new InvalidLambdaResponseError('body must be a string');
  const text = (r.body as string | undefined | null) ?? '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode: status, headers, cookies: cookies as string[], body };
}
