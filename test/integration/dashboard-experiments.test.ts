/**
 * GET /api/experiments through the local runtime (the dashboard-stats function as `npm start`
 * serves it) over the attribution counters on DynamoDB Local, written as the attributor writes
 * them: hit rates per route and variant, hourly and in total, with their intervals, the share of
 * listening, the comparison with control, and the window (`hours`) across day partitions.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentsReport } from '../../functions/dashboard-stats/types.ts';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { experimentsStoreFromEnv } from '../../shared/adapters/dynamodb/experiments.ts';
import { HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { wilson } from '../../shared/domain/experiments/confidence.ts';
import { checkedFetch } from '../support/contract.ts';
import { writeCounters } from '../support/experiments.ts';
import { provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const TOKEN = randomBytes(16).toString('hex');
// The dashboard's endpoints are not the API's: openapi.json leaves them out (as /api/stats).
const DASHBOARD_ENDPOINT = "the dashboard's experiments endpoint";

describe('GET /api/experiments on the local runtime', () => {
  let pipeline: LocalPipeline;
  const now = Date.now();
  const hour = Math.floor(now / HOUR_MS);
  // Whole hours back from now, a few minutes in (a list and its play fall in the same hour).
  const at = (hoursAgo: number) => (hour - hoursAgo) * HOUR_MS + 5 * 60_000;

  const get = async (query = '', headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) =>
    checkedFetch(pipeline.url, `/api/experiments${query}`, { headers, outsideContract: DASHBOARD_ENDPOINT });

  beforeAll(async () => {
    const env = await provisionedTestEnv('dashexp');
    pipeline = await startTestPipeline(env, {
      authToken: TOKEN,
      dashboard: true,
      env: { RANKING_VARIANTS: JSON.stringify([{ name: 'fresh', from: 0, to: 500 }]) },
    });
    const store = experimentsStoreFromEnv(env.env);
    await writeCounters(
      store,
      [
        { variant: 'control', route: 'recommendations', strategy: 'blend', servedAt: at(3), lists: 20, hitLists: 4 },
        { variant: 'control', route: 'recommendations', strategy: 'popular', servedAt: at(1), lists: 5, hitLists: 1 },
        { variant: 'fresh', route: 'recommendations', strategy: 'blend', servedAt: at(3), lists: 20, hitLists: 14 },
        { variant: 'control', route: 'radio', strategy: 'seed', servedAt: at(2), lists: 4, hitLists: 2 },
        // Three days ago: outside the default 48 hours, inside 96.
        { variant: 'control', route: 'recommendations', strategy: 'blend', servedAt: at(72), lists: 10, hitLists: 10 },
      ],
      [
        { variant: 'control', ts: at(2), count: 30 },
        { variant: 'fresh', ts: at(2), count: 6 },
      ],
    );
  });

  afterAll(async () => {
    await pipeline?.stop();
  });

  it('is behind the token, and answers 400 naming `hours` when it is out of range', async () => {
    expect((await get('', {})).status).toBe(401);
    for (const q of ['?hours=0', '?hours=337', '?hours=two']) {
      const res = await get(q);
      expect(res.status, q).toBe(400);
      expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['hours']);
    }
  });

  it('reports the last 48 hours: hit rates per route and variant, hourly, with intervals', async () => {
    const res = await get();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const report = res.body as ExperimentsReport;
    // Whole hours, the current one last (the request may fall in the hour after `now`).
    expect(report.to - report.from).toBe(48 * HOUR_MS);
    expect([hour + 1, hour + 2]).toContain(report.to / HOUR_MS);
    expect(report.variants).toEqual([
      { name: 'control', share: 0.5 },
      { name: 'fresh', share: 0.5 },
    ]);
    expect(report.routes.map((r) => [r.route, r.variant, r.served, r.hitLists, r.plays, r.explicit])).toEqual([
      ['recommendations', 'control', 25, 5, 5, 5],
      ['recommendations', 'fresh', 20, 14, 14, 14],
      ['radio', 'control', 4, 2, 2, 2],
    ]);
    const control = report.routes[0]!;
    expect(control.hitRate).toEqual(wilson(5, 25));
    expect(control.positions).toEqual({ p1: 5 });
    expect(control.hourly).toEqual([
      { hour: (hour - 3) * HOUR_MS, served: 20, hitLists: 4, hitRate: wilson(4, 20) },
      { hour: (hour - 1) * HOUR_MS, served: 5, hitLists: 1, hitRate: wilson(1, 5) },
    ]);
    expect(control.strategies.map((s) => [s.strategy, s.served, s.hitLists])).toEqual([
      ['blend', 20, 4],
      ['popular', 5, 1],
    ]);
    expect(report.listening).toEqual([
      { variant: 'control', plays: 37, recPlays: 7, share: wilson(7, 37) },
      { variant: 'fresh', plays: 20, recPlays: 14, share: wilson(14, 20) },
    ]);
    // 14/20 against 5/25: the intervals do not overlap.
    expect(report.comparisons).toEqual([
      { route: 'recommendations', variant: 'fresh', against: 'control', apart: true, lift: 0.7 / 0.2 - 1 },
      { route: '*', variant: 'fresh', against: 'control', apart: true, lift: 0.7 / (7 / 37) - 1 },
    ]);
  });

  it('reads a longer window across day partitions', async () => {
    const report = (await get('?hours=96')).body as ExperimentsReport;
    expect(report.to - report.from).toBe(96 * HOUR_MS);
    const control = report.routes.find((r) => r.route === 'recommendations' && r.variant === 'control')!;
    expect([control.served, control.hitLists]).toEqual([35, 15]);
    expect(control.hourly.map((p) => p.hour)).toEqual([hour - 72, hour - 3, hour - 1].map((h) => h * HOUR_MS));
  });
});
