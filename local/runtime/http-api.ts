/**
 * A local API Gateway HTTP API: a Node `http` server that turns each request for a topology route
 * into the payload-2.0 event, invokes the route's function and answers the way API Gateway would.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { FunctionName } from '../../shared/topology.ts';
import { buildHttpApiEvent, createRouter, type RouteLike, splitTarget, toHttpResponse } from './apigw-v2.ts';
import { type LogLine, silentLog } from './log.ts';

/** API Gateway's own payload limit. */
export const HTTP_API_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** A non-API path (docs, static files) served directly, without the Lambda conversion. */
export interface ExtraRoute {
  /** Exact path, or a prefix when `prefix` is true (e.g. `/ui/`). */
  readonly path: string;
  readonly prefix?: boolean;
  /** Extra routes are public unless this is set (the bearer token then applies too). */
  readonly requireAuth?: boolean;
  /** Serves GET (and HEAD) requests; writes the response itself. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  ms: number;
  requestId: string;
  routeKey?: string;
}

export interface HttpApiOptions {
  routes: readonly RouteLike[];
  invoke: (fn: FunctionName, event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2 | unknown>;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** When set, every API route needs `authorization: Bearer <token>` (except `user-token` routes). */
  authToken?: string;
  /**
   * The Lambda request authorizer of `user-token` routes (API Gateway's, with its cache): the
   * Authorization header → `{isAuthorized, context}`; the context reaches the function as
   * `requestContext.authorizer.lambda`. Requests without the header get API Gateway's 401.
   */
  authorizeUserToken?: (authorization: string) => Promise<{ isAuthorized: boolean; context?: Record<string, unknown> }>;
  extraRoutes?: readonly ExtraRoute[];
  /** Access lines and handler errors. */
  log?: LogLine;
  /** Structured access entries (tests, metrics). */
  onAccess?: (entry: AccessLogEntry) => void;
  maxBodyBytes?: number;
  accountId?: string;
  apiId?: string;
}

export interface HttpApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': payload.length, ...headers });
  res.end(payload);
};

export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? silentLog;
  const handle = requestHandler(opts, log);
  const server = createServer((req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const access: Partial<AccessLogEntry> = {};
    res.once('finish', () => {
      const entry: AccessLogEntry = {
        method: req.method ?? 'GET',
        path: splitTarget(req.url ?? '/').rawPath,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestId,
        ...(access.routeKey ? { routeKey: access.routeKey } : {}),
      };
      log(`[http] ${entry.method} ${entry.path} ${entry.status} ${entry.ms}ms`);
      opts.onAccess?.(entry);
    });
    handle(req, res, requestId, access).catch((err: unknown) => {
      log(`[http] ${req.method} ${req.url} crashed: ${(err as Error)?.stack ?? err}`);
      if (!res.headersSent) json(res, 500, { message: 'Internal Server Error' });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open; in-flight responses get a moment to finish.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }),
  };
}

/** One request the way API Gateway answers it: route, auth, body limit, payload 2.0, the function's answer. */
function requestHandler(opts: HttpApiOptions, log: LogLine) {
  const maxBody = opts.maxBodyBytes ?? HTTP_API_MAX_BODY_BYTES;
  const match = createRouter(opts.routes);
  const bearer = bearerCheck(opts.authToken);
  return async (req: IncomingMessage, res: ServerResponse, requestId: string, access: Partial<AccessLogEntry>) => {
    res.setHeader('apigw-requestid', requestId);
    const method = (req.method ?? 'GET').toUpperCase();
    const { rawPath } = splitTarget(req.url ?? '/');
    const hit = match(method, rawPath);
    if (hit.kind === 'not-found') return serveExtra(opts.extraRoutes ?? [], bearer, req, res, method, rawPath);
    if (hit.kind === 'method-not-allowed') {
      return json(res, 405, { message: 'Method Not Allowed' }, { allow: hit.allow.join(', ') });
    }
    access.routeKey = `${hit.route.method} ${hit.route.path}`;

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBody) return tooLarge(req, res);
    const auth = await authorize(hit.route, req, bearer, opts.authorizeUserToken, requestId, log);
    if (!auth.ok) return json(res, auth.status, auth.body, auth.headers);
    const body = await readBody(req, maxBody);
    if (!body) return tooLarge(req, res);

    const event = buildHttpApiEvent(
      {
        method,
        url: req.url ?? '/',
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        protocol: `HTTP/${req.httpVersion}`,
      },
      hit.route,
      hit.pathParameters,
      { accountId: opts.accountId ?? '000000000000', apiId: opts.apiId ?? 'local', stage: '$default', requestId },
    );
    if (auth.context) (event.requestContext as { authorizer?: unknown }).authorizer = { lambda: auth.context };
    let out: ReturnType<typeof toHttpResponse>;
    try {
      out = toHttpResponse(await opts.invoke(hit.route.function, event));
    } catch (err) {
      log(`[http] ${access.routeKey} → ${hit.route.function} failed (${requestId}): ${(err as Error)?.stack ?? err}`);
      return json(res, 500, { message: 'Internal Server Error' });
    }
    const headers: Record<string, string | string[] | number> = { ...out.headers, 'content-length': out.body.length };
    if (out.cookies.length > 0) headers['set-cookie'] = out.cookies;
    res.writeHead(out.statusCode, headers);
    res.end(method === 'HEAD' ? undefined : out.body);
  };
}

/** Why a request fails the bearer token (the API's default auth locally), or undefined when it passes or none is set. */
type BearerCheck = (req: IncomingMessage) => string | undefined;

/** API Gateway's JWT-authorizer-style check, with the reason spelled out for local debugging. */
function bearerCheck(authToken: string | undefined): BearerCheck {
  const tokenBuf = authToken ? Buffer.from(authToken) : undefined;
  return (req) => {
    if (!tokenBuf) return undefined;
    const header = req.headers.authorization;
    if (!header) return 'missing authorization header (expected "Bearer <token>")';
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    if (!m) return 'authorization header is not a bearer token';
    const given = Buffer.from(m[1]!);
    if (given.length !== tokenBuf.length || !timingSafeEqual(given, tokenBuf)) return 'bearer token does not match';
    return undefined;
  };
}

const unauthorized = (reason: string) => ({
  ok: false as const,
  status: 401,
  body: { message: 'Unauthorized', reason },
  headers: { 'www-authenticate': 'Bearer' },
});

/** A path no API route has: an extra route (GET/HEAD only; public unless it asks for the token) or 404. */
function serveExtra(
  extras: readonly ExtraRoute[],
  bearer: BearerCheck,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  rawPath: string,
) {
  const extra = extras.find((e) => (e.prefix ? rawPath.startsWith(e.path) : rawPath === e.path));
  if (!extra) return json(res, 404, { message: 'Not Found' });
  if (method !== 'GET' && method !== 'HEAD')
    return json(res, 405, { message: 'Method Not Allowed' }, { allow: 'GET, HEAD' });
  if (extra.requireAuth) {
    const reason = bearer(req);
    if (reason) {
      const denied = unauthorized(reason);
      return json(res, denied.status, denied.body, denied.headers);
    }
  }
  return extra.handler(req, res);
}

type AuthResult =
  | { ok: true; context?: Record<string, unknown> }
  | { ok: false; status: number; body: unknown; headers?: Record<string, string> };

/**
 * A route's auth: `user-token` routes ask the Lambda request authorizer (a missing header is API
 * Gateway's 401, a denial its 403, the context reaches the function); the others need the bearer token.
 */
async function authorize(
  route: RouteLike,
  req: IncomingMessage,
  bearer: BearerCheck,
  authorizeUserToken: HttpApiOptions['authorizeUserToken'],
  requestId: string,
  log: LogLine,
): Promise<AuthResult> {
  if (route.auth !== 'user-token') {
    const reason = bearer(req);
    return reason ? unauthorized(reason) : { ok: true };
  }
  const header = req.headers.authorization;
  if (!header || !authorizeUserToken) return { ok: false, status: 401, body: { message: 'Unauthorized' } };
  let answer: Awaited<ReturnType<NonNullable<HttpApiOptions['authorizeUserToken']>>>;
  try {
    answer = await authorizeUserToken(header);
  } catch (err) {
    log(`[http] authorizer failed (${requestId}): ${(err as Error)?.stack ?? err}`);
    return { ok: false, status: 500, body: { message: 'Internal Server Error' } };
  }
  if (!answer.isAuthorized) return { ok: false, status: 403, body: { message: 'Forbidden' } };
  return { ok: true, context: answer.context ?? {} };
}

/** The body, or undefined once it exceeds `limit` (the rest is drained so the 413 reaches the client). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse): void {
  // Drain (bounded) instead of resetting, or clients still writing see ECONNRESET rather than the 413.
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > 4 * HTTP_API_MAX_BODY_BYTES) req.destroy();
  });
  req.resume();
  json(res, 413, { message: 'Request Entity Too Large' }, { connection: 'close' });
}
