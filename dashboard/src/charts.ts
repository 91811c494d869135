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
