/**
 * GET /api/experiments: the pure report over counter rows (sums per route and variant, hourly
 * points, strategies, positions, share of listening, the intervals and the comparisons with
 * control, the empty window), the route's validation, and the counters source's cache.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { countersSource } from '../../../functions/dashboard-stats/counters-source.ts';
import { type DashboardSources, dashboardStats, experimentsOf } from '../../../functions/dashboard-stats/dashboard.ts';
import {
  type CounterRow,
  experimentsReport,
  hourWindow,
  MAX_HOURS,
} from '../../../functions/dashboard-stats/experiments.ts';
import type { ExperimentsReport } from '../../../functions/dashboard-stats/types.ts';
import type { ExperimentsStore } from '../../../shared/adapters/dynamodb/experiments.ts';
import { ALL, counterKeyString, HOUR_MS } from '../../../shared/domain/experiments/attribution.ts';
import { wilson } from '../../../shared/domain/experiments/confidence.ts';
import type { Experiment } from '../../../shared/domain/experiments/variants.ts';

const NOW = Date.UTC(2026, 11, 2, 13, 30);
const H = Math.floor(NOW / HOUR_MS);
const WINDOW = { fromHour: H - 47, toHour: H };
const EXPERIMENT: Experiment = { salt: 's', buckets: 100, variants: [{ name: 'fresh', from: 0, to: 10 }] };

const row = (hour: number, variant: string, route: string, strategy: string, fields: Record<string, number>) => ({
  key: { hour, variant, route, strategy },
  fields,
});

const ROWS: CounterRow[] = [
  row(H - 1, 'control', 'recommendations', 'blend', {
    served: 100,
    hitLists: 20,
    hits: 30,
    explicit: 5,
    p10: 12,
    p1: 10,
    pMore: 3,
    p2: 5,
  }),
  row(H, 'control', 'recommendations', 'popular', { served: 50, hitLists: 5, hits: 5, p1: 5 }),
  row(H - 1, 'fresh', 'recommendations', 'blend', { served: 100, hitLists: 40, hits: 50, p1: 50 }),
  // A hit counted before its list (the two triggers apply apart): the rate stays within [0, 1].
  row(H, 'control', 'radio', 'seed', { served: 10, hitLists: 12, hits: 12, p1: 12 }),
  // Hits only: an hour whose lists are counted in an earlier hour of another strategy.
  row(H - 2, 'control', 'radio', 'seed', { hits: 0 }),
  row(H - 1, 'control', ALL, ALL, { plays: 1000, recPlays: 100 }),
  row(H - 1, 'fresh', ALL, ALL, { plays: 500, recPlays: 100 }),
  // Outside the window: left out.
  row(H - 48, 'control', 'recommendations', 'blend', { served: 999, hitLists: 999 }),
  row(H + 1, 'control', ALL, ALL, { plays: 7 }),
];

describe('the experiments report', () => {
  const report = experimentsReport(ROWS, EXPERIMENT, WINDOW, 24);

  it('spans whole hours: the window ends with the current one', () => {
    expect(hourWindow(NOW, 48)).toEqual(WINDOW);
    expect(hourWindow(NOW, 1)).toEqual({ fromHour: H, toHour: H });
    expect(report.from).toBe((H - 47) * HOUR_MS);
    expect(report.to).toBe((H + 1) * HOUR_MS);
    expect(report.to - report.from).toBe(48 * HOUR_MS);
    expect(report.attributionWindowHours).toBe(24);
    expect(report.variants).toEqual([
      { name: 'control', share: 0.9 },
      { name: 'fresh', share: 0.1 },
    ]);
  });

  it('sums strategies within route and variant, served routes in order, control first', () => {
    expect(report.routes.map((r) => `${r.route}/${r.variant}`)).toEqual([
      'recommendations/control',
      'recommendations/fresh',
      'radio/control',
    ]);
    const control = report.routes[0]!;
    expect(control).toMatchObject({ served: 150, hitLists: 25, plays: 35, explicit: 5 });
    expect(control.hitRate).toEqual(wilson(25, 150));
    // Positions in rank order, pMore last; only positions with plays.
    expect(Object.entries(control.positions)).toEqual([
      ['p1', 15],
      ['p2', 5],
      ['p10', 12],
      ['pMore', 3],
    ]);
    expect(control.strategies).toEqual([
      { strategy: 'blend', served: 100, hitLists: 20, hitRate: wilson(20, 100), plays: 30 },
      { strategy: 'popular', served: 50, hitLists: 5, hitRate: wilson(5, 50), plays: 5 },
    ]);
  });

  it('gives hourly points, oldest first, only hours with lists or hits', () => {
    expect(report.routes[0]!.hourly).toEqual([
      { hour: (H - 1) * HOUR_MS, served: 100, hitLists: 20, hitRate: wilson(20, 100) },
      { hour: H * HOUR_MS, served: 50, hitLists: 5, hitRate: wilson(5, 50) },
    ]);
    expect(report.routes[2]!.hourly.map((p) => p.hour)).toEqual([H * HOUR_MS]);
  });

  it('gives 95 % Wilson intervals, within [0, 1] even when hits are ahead of lists', () => {
    // 20 of 100: the textbook Wilson interval.
    const { hitRate } = report.routes[0]!.hourly[0]!;
    expect(hitRate.rate).toBe(0.2);
    expect(hitRate.low).toBeCloseTo(0.1334, 4);
    expect(hitRate.high).toBeCloseTo(0.2888, 4);
    const radio = report.routes[2]!;
    expect(radio).toMatchObject({ served: 10, hitLists: 12 });
    expect(radio.hitRate.rate).toBe(1);
    expect(radio.hitRate.high).toBeCloseTo(1, 12);
    expect(radio.hitRate.low).toBeGreaterThan(0.6);
  });

  it('gives each variant its share of listening', () => {
    expect(report.listening).toEqual([
      { variant: 'control', plays: 1000, recPlays: 100, share: wilson(100, 1000) },
      { variant: 'fresh', plays: 500, recPlays: 100, share: wilson(100, 500) },
    ]);
  });

  it('compares each variant with control per route and on listening (route *)', () => {
    expect(report.comparisons).toEqual([
      { route: 'recommendations', variant: 'fresh', against: 'control', apart: true, lift: expect.any(Number) },
      { route: ALL, variant: 'fresh', against: 'control', apart: true, lift: expect.any(Number) },
    ]);
    expect(report.comparisons[0]!.lift).toBeCloseTo(0.4 / (25 / 150) - 1, 10);
    expect(report.comparisons[1]!.lift).toBeCloseTo(1, 10);
  });

  it('says overlapping intervals are not apart, and gives no lift over a control rate of 0', () => {
    const small = experimentsReport(
      [
        row(H, 'control', 'radio', 'seed', { served: 10, hitLists: 0 }),
        row(H, 'fresh', 'radio', 'seed', { served: 10, hitLists: 2 }),
        row(H, 'control', 'similar-tracks', 'item', { served: 20, hitLists: 5 }),
        row(H, 'fresh', 'similar-tracks', 'item', { served: 20, hitLists: 7 }),
      ],
      EXPERIMENT,
      WINDOW,
      24,
    );
    expect(small.comparisons).toEqual([
      { route: 'radio', variant: 'fresh', against: 'control', apart: false, lift: null },
      { route: 'similar-tracks', variant: 'fresh', against: 'control', apart: false, lift: expect.any(Number) },
    ]);
    expect(small.comparisons[1]!.lift).toBeCloseTo(0.4, 10);
  });

  it('is empty but whole for a window without counters', () => {
    const empty = experimentsReport([], EXPERIMENT, WINDOW, 24);
    expect(empty).toEqual({
      from: (H - 47) * HOUR_MS,
      to: (H + 1) * HOUR_MS,
      attributionWindowHours: 24,
      variants: report.variants,
      routes: [],
      listening: [],
      comparisons: [],
    });
    // No lists served: nothing is known, the interval is all of [0, 1].
    const unserved = experimentsReport([row(H, 'control', 'radio', 'seed', { hits: 1 })], EXPERIMENT, WINDOW, 24);
    expect(unserved.routes[0]!.hitRate).toEqual({ rate: 0, low: 0, high: 1 });
    expect(unserved.routes[0]!.hourly).toEqual([]);
  });

  it('keeps a variant the experiment no longer declares, after the declared ones', () => {
    const retired = experimentsReport(
      [
        row(H, 'old', 'radio', 'seed', { served: 1 }),
        row(H, 'fresh', 'radio', 'seed', { served: 1 }),
        row(H, 'control', 'radio', 'seed', { served: 1 }),
      ],
      EXPERIMENT,
      WINDOW,
      24,
    );
    expect(retired.routes.map((r) => r.variant)).toEqual(['control', 'fresh', 'old']);
  });
});

describe('GET /api/experiments', () => {
  const asked: [number, number][] = [];
  const sources: DashboardSources = {
    metrics: { health: async () => Promise.reject(new Error('not this route')) },
    stream: {
      recent: async () => [],
      receivedSince: async () => [],
      facets: async () => ({ platforms: [], countries: [] }),
    },
    experiments: {
      counters: async (fromHour, toHour) => {
        asked.push([fromHour, toHour]);
        return ROWS.filter((r) => r.key.hour >= fromHour && r.key.hour <= toHour);
      },
    },
  };
  const answer = dashboardStats(sources);
  const get = (query?: Record<string, string>) =>
    answer({ rawPath: '/api/experiments', queryStringParameters: query } as unknown as APIGatewayProxyEventV2);

  it('reads the last 48 hours by default, never cached', async () => {
    const res = await get();
    expect(res.statusCode).toBe(200);
    expect(res.headers?.['cache-control']).toBe('no-store');
    const body = JSON.parse(res.body as string) as ExperimentsReport;
    const [fromHour, toHour] = asked.at(-1)!;
    expect(toHour - fromHour + 1).toBe(48);
    expect(body.to - body.from).toBe(48 * HOUR_MS);
    expect(body.variants.map((v) => v.name)).toContain('control');
    expect((await get({ hours: String(MAX_HOURS) })).statusCode).toBe(200);
    const [from2, to2] = asked.at(-1)!;
    expect(to2 - from2 + 1).toBe(MAX_HOURS);
  });

  it('answers 400 naming the field for hours out of range or not an integer, and for unknown fields', async () => {
    for (const hours of ['0', String(MAX_HOURS + 1), '1.5', 'many']) {
      const res = await get({ hours });
      expect(res.statusCode, hours).toBe(400);
      expect(JSON.parse(res.body as string).errors.map((e: { path: string }) => e.path)).toEqual(['hours']);
    }
    expect((await get({ hour: '3' })).statusCode).toBe(400);
  });

  it('reports under the experiment the functions run (RANKING_VARIANTS)', async () => {
    const env = { RANKING_VARIANTS: JSON.stringify([{ name: 'fresh', from: 0, to: 250 }]) };
    const report = await experimentsOf(sources, 48, NOW, env);
    expect(report.variants).toEqual([
      { name: 'control', share: 0.75 },
      { name: 'fresh', share: 0.25 },
    ]);
    expect(report.comparisons.map((c) => c.route)).toEqual(['recommendations', ALL]);
  });
});

describe('the counters source', () => {
  it('reads one Query per day of the window, and keeps a window for its TTL', async () => {
    const queried: number[] = [];
    const item = (hour: number) => ({
      day: Math.floor(hour / 24),
      key: counterKeyString({ hour, variant: 'control', route: 'radio', strategy: 'seed' }),
      served: 3,
      wm_s0: 41,
      expiresAt: 1,
    });
    const store = {
      client: {
        send: async (cmd: { input: { ExpressionAttributeValues: { ':d': number } } }) => {
          const day = cmd.input.ExpressionAttributeValues[':d'];
          queried.push(day);
          return { Items: [item(day * 24), item(day * 24 + 23)] };
        },
      },
      countersTable: 'counters',
      servedTable: 'served',
      counter: { reads: 0 },
    } as unknown as ExperimentsStore;
    const source = countersSource(() => store, 1000);
    const day = 20_000;
    const rows = await source.counters(day * 24 + 20, day * 24 + 30, 0);
    expect(queried).toEqual([day, day + 1]);
    // The offsets and the TTL are not counts.
    expect(rows).toEqual([
      { key: expect.objectContaining({ hour: day * 24 + 23 }), fields: { served: 3 } },
      expect.anything(),
    ]);
    expect(rows.map((r) => r.key.hour)).toEqual([day * 24 + 23, (day + 1) * 24]);
    await source.counters(day * 24 + 20, day * 24 + 30, 999);
    expect(queried).toHaveLength(2);
    await source.counters(day * 24 + 20, day * 24 + 30, 1000);
    expect(queried).toHaveLength(4);
    await source.counters(day * 24, day * 24 + 1, 1001);
    expect(queried).toHaveLength(5);
  });
});
