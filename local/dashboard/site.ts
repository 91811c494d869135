/**
 * The dashboard page in the local runtime: the Vite build (dashboard/dist) served at `/` and
 * `/assets/*`, public like the cloud's S3 + CloudFront site (its data needs the API token), and
 * the build itself (`npm run dashboard:build`; `npm start` and the e2e setup build it when missing).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { ExtraRoute } from '../runtime/http-api.ts';
import { type LogLine, silentLog } from '../runtime/log.ts';

export const DASHBOARD_DIR = resolve(import.meta.dirname, '../../dashboard');
export const DASHBOARD_DIST = join(DASHBOARD_DIR, 'dist');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

const PAGE_HEADERS = {
  // The token travels in the page URL once: never send it on as a referrer.
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tunestream dashboard</title>
<body style="font:16px system-ui;margin:3rem"><h1>Dashboard not built</h1>
<p>Run <code>npm run dashboard:build</code>, then reload this page.</p></body>`;

/** Public routes serving the dashboard build: `/` (index.html) and `/assets/*` (hashed files). */
export function dashboardSiteRoutes(dist = DASHBOARD_DIST): ExtraRoute[] {
  const serve = async (res: ServerResponse, file: string, cache: string) => {
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (file.endsWith('index.html')) return sendPage(res, 503, NOT_BUILT);
      return notFound(res);
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length,
      'cache-control': cache,
      ...PAGE_HEADERS,
    });
    res.end(body);
  };
  return [
    { path: '/', handler: (_req, res) => serve(res, join(dist, 'index.html'), 'no-cache') },
    {
      path: '/assets/',
      prefix: true,
      handler: (req: IncomingMessage, res) => {
        const rawPath = new URL(req.url ?? '/', 'http://local').pathname;
        const file = normalize(join(dist, decodeURIComponent(rawPath)));
        if (!file.startsWith(join(dist, 'assets') + sep)) return notFound(res);
        // Vite hashes asset names, so they never change under the same URL.
        return serve(res, file, 'public, max-age=31536000, immutable');
      },
    },
  ];
}

function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache', ...PAGE_HEADERS });
  res.end(html);
}

/** Builds the dashboard with Vite (a dev dependency, loaded only when a build is needed). */
export async function buildDashboard(opts: { ifMissing?: boolean; log?: LogLine } = {}): Promise<void> {
  if (opts.ifMissing && existsSync(join(DASHBOARD_DIST, 'index.html'))) return;
  (opts.log ?? silentLog)('building the dashboard (vite)…');
  const { build } = await import('vite');
  await build({ configFile: join(DASHBOARD_DIR, 'vite.config.ts'), logLevel: 'warn' });
}

function notFound(res: ServerResponse): void {
  const payload = Buffer.from(JSON.stringify({ message: 'Not Found' }));
  res.writeHead(404, {
    'content-type': 'application/json',
    'content-length': payload.length,
    'cache-control': 'no-store',
  });
  res.end(payload);
}
