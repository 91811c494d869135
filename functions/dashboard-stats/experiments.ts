/**
 * GET /api/experiments, pure: the attribution counters of a window (one row per hour, variant,
 * route and strategy; shared/domain/experiments/attribution.ts) → per route and variant the hit
 * rate (lists with a hit / lists served), hourly and in total; per variant the share of listening
 * (plays attributed to a list / all plays); each with its 95 % interval, and each variant against
 * control.
 */
import { z } from 'zod';
import { ALL, type CounterKey, HOUR_MS } from '../../shared/domain/experiments/attribution.ts';
import { apart, type RateInterval, wilson } from '../../shared/domain/experiments/confidence.ts';
import { SERVED_ROUTES } from '../../shared/domain/experiments/served-list.ts';
import { CONTROL, type Experiment, sharesOf } from '../../shared/domain/experiments/variants.ts';
import type { ExperimentsReport, HitCounts, ListeningShare, RouteVariantReport, VariantComparison } from './types.ts';

export const DEFAULT_HOURS = 48;
/** Two weeks: 15 Queries of one day each at most. */
export const MAX_HOURS = 336;

export const ExperimentsQuery = z.strictObject({
  hours: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(MAX_HOURS, `must be at most ${MAX_HOURS}`)
    .default(DEFAULT_HOURS),
});

/** One counter item as the adapter reads it (its numeric fields, the offsets left out). */
export interface CounterRow {
  key: CounterKey;
  fields: Readonly<Record<string, number>>;
}

/** Epoch hours, both ends included. */
export interface HourWindow {
  fromHour: number;
  toHour: number;
}

/** The `hours` hours ending with the current one (which is still filling). */
export function hourWindow(now: number, hours: number): HourWindow {
  const toHour = Math.floor(now / HOUR_MS);
  return { fromHour: toHour - hours + 1, toHour };
}

type Fields = Record<string, number>;

function addTo(into: Fields, fields: Readonly<Fields>): void {
  for (const [f, n] of Object.entries(fields)) into[f] = (into[f] ?? 0) + n;
}

/**
 * Hits are capped at the lists served for the rate: the served-lists and listen-events triggers
 * apply their counts apart, so for a moment an hour can count a list's hit before the list.
 */
function hitCounts(f: Readonly<Fields>): HitCounts {
  const served = f.served ?? 0;
  const hitLists = f.hitLists ?? 0;
  return { served, hitLists, hitRate: wilson(Math.min(hitLists, served), served) };
}

const POSITION = /^p(\d+|More)$/;
const positionRank = (f: string) => (f === 'pMore' ? Number.POSITIVE_INFINITY : Number(f.slice(1)));

function positionsOf(f: Readonly<Fields>): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = Object.keys(f).filter((k) => POSITION.test(k) && (f[k] ?? 0) > 0);
  for (const k of keys.sort((a, b) => positionRank(a) - positionRank(b))) out[k] = f[k]!;
  return out;
}

interface RouteVariantSums {
  route: string;
  variant: string;
  total: Fields;
  byHour: Map<number, Fields>;
  byStrategy: Map<string, Fields>;
}

function sumsOf(rows: readonly CounterRow[], window: HourWindow) {
  const routes = new Map<string, RouteVariantSums>();
  const listening = new Map<string, Fields>();
  const fieldsIn = <K>(m: Map<K, Fields>, k: K): Fields => {
    const f = m.get(k) ?? {};
    m.set(k, f);
    return f;
  };
  for (const { key, fields } of rows) {
    if (key.hour < window.fromHour || key.hour > window.toHour) continue;
    if (key.route === ALL) {
      if (key.strategy === ALL) addTo(fieldsIn(listening, key.variant), fields);
      continue;
    }
    const id = `${key.route}\u0000${key.variant}`;
    let s = routes.get(id);
    if (!s) {
      s = { route: key.route, variant: key.variant, total: {}, byHour: new Map(), byStrategy: new Map() };
      routes.set(id, s);
    }
    addTo(s.total, fields);
    addTo(fieldsIn(s.byHour, key.hour), fields);
    addTo(fieldsIn(s.byStrategy, key.strategy), fields);
  }
  return { routes: [...routes.values()], listening };
}

function routeReport(s: RouteVariantSums): RouteVariantReport {
  return {
    route: s.route,
    variant: s.variant,
    ...hitCounts(s.total),
    plays: s.total.hits ?? 0,
    explicit: s.total.explicit ?? 0,
    positions: positionsOf(s.total),
    hourly: [...s.byHour.entries()]
      .filter(([, f]) => (f.served ?? 0) > 0 || (f.hitLists ?? 0) > 0)
      .sort((a, b) => a[0] - b[0])
      .map(([hour, f]) => ({ hour: hour * HOUR_MS, ...hitCounts(f) })),
    strategies: [...s.byStrategy.entries()]
      .map(([strategy, f]) => ({ strategy, ...hitCounts(f), plays: f.hits ?? 0 }))
      .sort((a, b) => b.served - a.served || a.strategy.localeCompare(b.strategy)),
  };
}

/** Control first, then the experiment's variants as declared, then any others (retired ones) by name. */
function variantOrder(e: Experiment): (a: string, b: string) => number {
  const declared = [CONTROL, ...e.variants.map((v) => v.name).filter((n) => n !== CONTROL)];
  const rank = (v: string) => (declared.includes(v) ? declared.indexOf(v) : declared.length);
  return (a, b) => rank(a) - rank(b) || a.localeCompare(b);
}

/** The served routes in their declared order, then any others by name. */
function routeRank(route: string): number {
  const i = (SERVED_ROUTES as readonly string[]).indexOf(route);
  return i < 0 ? SERVED_ROUTES.length : i;
}

function compare(route: string, variant: string, rate: RateInterval, control: RateInterval): VariantComparison {
  return {
    route,
    variant,
    against: CONTROL,
    apart: apart(rate, control),
    lift: control.rate > 0 ? rate.rate / control.rate - 1 : null,
  };
}

/** Each variant against control on each route's hit rate, then on the share of listening (route `*`). */
function comparisonsOf(routes: readonly RouteVariantReport[], listening: readonly ListeningShare[]) {
  const out: VariantComparison[] = [];
  for (const r of routes) {
    if (r.variant === CONTROL) continue;
    const control = routes.find((c) => c.route === r.route && c.variant === CONTROL);
    if (control) out.push(compare(r.route, r.variant, r.hitRate, control.hitRate));
  }
  const control = listening.find((l) => l.variant === CONTROL);
  for (const l of listening)
    if (control && l.variant !== CONTROL) out.push(compare(ALL, l.variant, l.share, control.share));
  return out;
}

/**
 * The report of a window's counter rows. The intervals treat lists (and plays) as independent
 * trials; one listener's lists are not quite, so read a narrow interval of few listeners with care.
 */
export function experimentsReport(
  rows: readonly CounterRow[],
  experiment: Experiment,
  window: HourWindow,
  attributionWindowHours: number,
): ExperimentsReport {
  const sums = sumsOf(rows, window);
  const byVariant = variantOrder(experiment);
  const routes = sums.routes
    .map(routeReport)
    .sort(
      (a, b) =>
        routeRank(a.route) - routeRank(b.route) || a.route.localeCompare(b.route) || byVariant(a.variant, b.variant),
    );
  const listening = [...sums.listening.entries()]
    .sort((a, b) => byVariant(a[0], b[0]))
    .map(([variant, f]): ListeningShare => {
      const plays = f.plays ?? 0;
      const recPlays = f.recPlays ?? 0;
      return { variant, plays, recPlays, share: wilson(recPlays, plays) };
    });
  return {
    from: window.fromHour * HOUR_MS,
    to: (window.toHour + 1) * HOUR_MS,
    attributionWindowHours,
    variants: Object.entries(sharesOf(experiment))
      .sort((a, b) => byVariant(a[0], b[0]))
      .map(([name, share]) => ({ name, share })),
    routes,
    listening,
    comparisons: comparisonsOf(routes, listening),
  };
}
