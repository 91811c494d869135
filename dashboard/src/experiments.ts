/**
 * "Are recommendations working?": per served route, each variant's hit rate (lists with a play
 * within the attribution window, of the lists served) hour by hour inside its 95 % interval, and
 * the totals: lists served, hit rate, share of listening, and whether a variant is apart from
 * control (their intervals do not overlap).
 */
import { type ExperimentsReport, get, type RateInterval } from './api.ts';
import { type BandSeries, bandChart, setBands } from './charts.ts';
import { byId, h } from './dom.ts';

const HOUR_MS = 3_600_000;
const COLORS = ['#5eb1ff', '#ffb45e', '#7bd88f', '#d98cff', '#ff6b6b', '#f5e663'];
const ROUTE_LABELS: Record<string, string> = {
  recommendations: 'Recommendations',
  radio: 'Radio',
  'similar-tracks': 'Similar tracks',
  'similar-artists': 'Similar artists',
};
const routeLabel = (route: string) => ROUTE_LABELS[route] ?? route;

const hoursSelect = byId<HTMLSelectElement>('exp-hours');
const chartsBox = byId('exp-charts');
const charts = new Map<string, { card: HTMLElement; chart: ReturnType<typeof bandChart>; legend: HTMLElement }>();
/** Bumped when the window changes, so an answer for the old window that lands late is dropped. */
let generation = 0;

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const interval = (r: RateInterval) => `${pct(r.rate)} (${(r.low * 100).toFixed(1)}–${pct(r.high)})`;

/** One colour per variant for the whole panel: declared variants first (control first), then any others. */
function variantColors(report: ExperimentsReport): (variant: string) => string {
  const names = [...new Set([...report.variants.map((v) => v.name), ...report.routes.map((r) => r.variant)])];
  return (variant) => COLORS[names.indexOf(variant) % COLORS.length]!;
}

function hourLabels(from: number, to: number): string[] {
  const labels: string[] = [];
  const days = (to - from) / HOUR_MS > 24;
  for (let t = from; t < to; t += HOUR_MS) {
    const d = new Date(t);
    const hh = `${String(d.getHours()).padStart(2, '0')}:00`;
    labels.push(days ? `${d.getMonth() + 1}/${d.getDate()} ${hh}` : hh);
  }
  return labels;
}

function routeChart(route: string) {
  let c = charts.get(route);
  if (!c) {
    const canvas = h('canvas', { 'data-testid': 'hit-rate-chart', 'data-route': route }) as HTMLCanvasElement;
    const legend = h('span', { class: 'legend' });
    const card = h(
      'div',
      { class: 'exp-route' },
      h('h3', {}, routeLabel(route), ' ', legend),
      h('div', { class: 'chart exp-chart' }, canvas),
    );
    c = { card, chart: bandChart(canvas), legend };
    charts.set(route, c);
  }
  return c;
}

function renderCharts(report: ExperimentsReport, colorOf: (variant: string) => string): void {
  const labels = hourLabels(report.from, report.to);
  const routes = [...new Set(report.routes.map((r) => r.route))];
  for (const [route, c] of charts)
    if (!routes.includes(route)) {
      c.chart.destroy();
      charts.delete(route);
    }
  if (routes.length === 0) {
    chartsBox.replaceChildren(h('p', { class: 'empty' }, 'no lists served in this window'));
    return;
  }
  chartsBox.replaceChildren(
    ...routes.map((route) => {
      const c = routeChart(route);
      const rows = report.routes.filter((r) => r.route === route);
      const series: BandSeries[] = rows.map((r) => {
        const points: BandSeries['points'] = labels.map(() => null);
        for (const p of r.hourly) points[Math.round((p.hour - report.from) / HOUR_MS)] = { ...p.hitRate, n: p.served };
        return { label: r.variant, color: colorOf(r.variant), points };
      });
      setBands(c.chart, labels, series);
      c.legend.replaceChildren(...rows.map((r) => swatch(r.variant, colorOf(r.variant))));
      return c.card;
    }),
  );
}

const swatch = (variant: string, color: string) =>
  h('span', { class: 'variant' }, h('i', { style: `background:${color}` }), variant);

function versus(report: ExperimentsReport, route: string, variant: string): HTMLElement {
  if (variant === 'control') return h('td', { class: 'muted' }, '—');
  const c = report.comparisons.find((x) => x.route === route && x.variant === variant);
  if (!c) return h('td', { class: 'muted' }, 'no control');
  const lift = c.lift === null ? '' : `, ${c.lift >= 0 ? '+' : '−'}${Math.abs(Math.round(c.lift * 100))} %`;
  const tone = c.apart && c.lift !== null ? (c.lift >= 0 ? 'up' : 'down') : '';
  return h('td', { class: tone, 'data-apart': String(c.apart) }, `${c.apart ? 'apart' : 'overlaps'}${lift}`);
}

function renderTable(report: ExperimentsReport, colorOf: (variant: string) => string): void {
  const group = (label: string, route: string) =>
    h('tr', { class: 'group', 'data-group': route }, h('th', { colspan: '4' }, label));
  const row = (route: string, variant: string, count: string, rate: RateInterval) =>
    h(
      'tr',
      { 'data-route': route, 'data-variant': variant },
      h('td', {}, swatch(variant, colorOf(variant))),
      h('td', {}, count),
      h('td', {}, interval(rate)),
      versus(report, route, variant),
    );
  const rows: HTMLElement[] = [];
  report.routes.forEach((r, i) => {
    if (report.routes[i - 1]?.route !== r.route) rows.push(group(`${routeLabel(r.route)} · hit rate`, r.route));
    rows.push(row(r.route, r.variant, `${r.served} lists`, r.hitRate));
  });
  if (report.listening.length > 0) rows.push(group('All listening · share from recommendations', '*'));
  for (const l of report.listening) rows.push(row('*', l.variant, `${l.plays} plays`, l.share));
  byId('exp-totals').replaceChildren(
    h(
      'table',
      { 'data-testid': 'experiments-table' },
      h('tr', {}, ...['variant', 'served', 'rate (95 % interval)', 'vs control'].map((t) => h('th', {}, t))),
      ...rows,
    ),
  );
}

export function renderExperiments(report: ExperimentsReport): void {
  const colorOf = variantColors(report);
  byId('exp-variants').replaceChildren(
    'listeners: ',
    ...report.variants.map((v) => h('span', {}, swatch(v.name, colorOf(v.name)), ` ${Math.round(v.share * 100)} % `)),
  );
  byId('exp-window').textContent = String(report.attributionWindowHours);
  byId('exp-open').textContent = String(report.attributionWindowHours);
  // The window shown, for a reader of the DOM (the e2e test waits on it after a change).
  byId('h-experiments').dataset.hours = String((report.to - report.from) / HOUR_MS);
  renderCharts(report, colorOf);
  renderTable(report, colorOf);
}

export async function pollExperiments(): Promise<void> {
  const asked = generation;
  const report = await get<ExperimentsReport>(`/api/experiments?hours=${encodeURIComponent(hoursSelect.value)}`);
  if (report && asked === generation) renderExperiments(report);
}

/** A new window is fetched at once; `failed` reports an error as the other panels do. */
export function onWindowChange(failed: (err: unknown) => void): void {
  hoursSelect.addEventListener('change', () => {
    generation++;
    pollExperiments().catch(failed);
  });
}
