/**
 * The monthly bill as the markdown table docs/deploy.md shows (from `billRows`, printed by
 * `npm run bench -- cost`).
 */
import type { BillRow, Line } from './cost-model.ts';

const usd = (x: number) => `$${x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(x >= 10 ? 0 : 2)}`;
const sum = (lines: readonly Line[]) => lines.reduce((a, l) => a + l.usd, 0);

export function billMarkdown(rows: readonly BillRow[]): string {
  const out = [
    '| events / day | idle | per-event, on-demand | per-event, provisioned | recommendations | archive, API | batch layer, hourly | batch layer, daily | **total: on-demand, hourly builds** | **total: provisioned, daily builds** | Personalize | Gorse VM |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const od = r.onDemand;
    const pr = r.provisioned;
    const hourly = od.batch.athena + od.batch.dynamo;
    const daily = r.batchDaily.athena + r.batchDaily.dynamo;
    out.push(
      `| ${r.eventsPerDay / 1e6} M | ${usd(od.idle)} / ${usd(pr.idle)} | ${usd(od.perEvent)} ($${od.perEventUsdPerMillion.toFixed(2)}/M) | ${usd(pr.perEvent)} ($${pr.perEventUsdPerMillion.toFixed(2)}/M) | ${usd(od.recommendations)} / ${usd(pr.recommendations)} | ${usd(sum(od.other))} | ${usd(hourly)} | ${usd(daily)} | **${usd(od.total)}** | **${usd(pr.total - hourly + daily)}** | ${usd(sum(r.personalize))} | ${usd(r.gorse.usd)} |`,
    );
  }
  return out.join('\n');
}
