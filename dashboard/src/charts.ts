/** Chart.js, registered with only what the dashboard draws (keeps the bundle small). */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Filler,
  Tooltip,
);
Chart.defaults.color = '#9aa3b2';
Chart.defaults.borderColor = '#2a2f3a';
// Streaming data: redraw in place, no animation (no jumping bars, less CPU).
Chart.defaults.animation = false;

export function barChart(canvas: HTMLCanvasElement, label: string): Chart<'bar'> {
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: [], datasets: [{ label, data: [], backgroundColor: '#5eb1ff' }] },
    options: {
      indexAxis: 'y',
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true } },
    },
  });
}

export function sparkline(canvas: HTMLCanvasElement): Chart<'line'> {
  return new Chart(canvas, {
    type: 'line',
    data: {
      labels: Array.from({ length: 60 }, (_, i) => `${i - 59}s`),
      datasets: [
        {
          data: [],
          borderColor: '#5eb1ff',
          backgroundColor: 'rgba(94,177,255,0.15)',
          fill: true,
          pointRadius: 0,
          tension: 0.3,
        },
      ],
    },
    options: {
      maintainAspectRatio: false,
      plugins: { legend: { display: false } },
      scales: { x: { display: false }, y: { beginAtZero: true, ticks: { maxTicksLimit: 3 } } },
    },
  });
}

export function setBars(chart: Chart<'bar'>, labels: string[], values: number[]): void {
  chart.data.labels = labels;
  chart.data.datasets[0]!.data = values;
  chart.update('none');
}

/** One variant's rate over time with its interval; null where nothing was measured. */
export interface BandSeries {
  label: string;
  color: string;
  points: ({ rate: number; low: number; high: number; n: number } | null)[];
}

const seriesOf = new WeakMap<Chart, BandSeries[]>();
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

/** Rates (0–1) over time, each series a line inside its shaded band (the 95 % interval). */
export function bandChart(canvas: HTMLCanvasElement): Chart<'line', (number | null)[], string> {
  const chart = new Chart<'line', (number | null)[], string>(canvas, {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      maintainAspectRatio: false,
      // Hourly points are sparse: a series with gaps still reads as a line.
      spanGaps: true,
      interaction: { mode: 'index', intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: {
          // Each series is three datasets (low, high, rate): the tooltip speaks for the rate.
          filter: (item) => item.datasetIndex % 3 === 2 && item.raw !== null,
          callbacks: {
            label: (item) => {
              const s = seriesOf.get(item.chart)?.[Math.floor(item.datasetIndex / 3)];
              const p = s?.points[item.dataIndex];
              return s && p ? `${s.label}: ${pct(p.rate)} (${pct(p.low)}–${pct(p.high)}) of ${p.n}` : '';
            },
          },
        },
      },
      scales: {
        x: { ticks: { maxTicksLimit: 6, maxRotation: 0, autoSkipPadding: 24 } },
        y: {
          min: 0,
          suggestedMax: 0.2,
          ticks: { maxTicksLimit: 4, callback: (v) => `${Math.round(Number(v) * 100)} %` },
        },
      },
    },
  });
  return chart;
}

export function setBands(
  chart: Chart<'line', (number | null)[], string>,
  labels: string[],
  series: BandSeries[],
): void {
  seriesOf.set(chart, series);
  chart.data.labels = labels;
  chart.data.datasets = series.flatMap((s) => {
    // The bounds are drawn as short ticks too: a band needs two points, an isolated hour has one.
    const band = {
      borderWidth: 0,
      borderColor: 'transparent',
      pointStyle: 'line' as const,
      pointRadius: 4,
      pointBorderWidth: 1,
      pointBorderColor: `${s.color}99`,
    };
    return [
      { ...band, data: s.points.map((p) => p?.low ?? null), fill: false },
      // Filled down to the dataset before it (the low bound): the interval as a band.
      { ...band, data: s.points.map((p) => p?.high ?? null), fill: '-1', backgroundColor: `${s.color}33` },
      {
        data: s.points.map((p) => p?.rate ?? null),
        borderColor: s.color,
        backgroundColor: s.color,
        pointRadius: 2,
        borderWidth: 2,
        fill: false,
      },
    ];
  });
  chart.update('none');
}
