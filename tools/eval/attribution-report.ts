/**
 * The online attribution replay, printed and as JSON (`npm run eval -- … --online [--out]`).
 */
import type { RateInterval } from '../../shared/domain/experiments/confidence.ts';
import type { AttributionReplayResult } from './attribution-replay.ts';

/** The offline harness's hit rate@k (a held-out artist in the top k) over the same listeners, per variant's ranking. */
export type OfflineHitRates = Record<string, RateInterval & { listeners: number }>;

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const interval = (r: RateInterval) => `${pct(r.rate)} [${pct(r.low)}, ${pct(r.high)}]`;
const liveVsOffline = (live: number | undefined, offline: number | undefined) =>
  `${live ?? 0} / ${offline ?? 0}${(live ?? 0) === (offline ?? 0) ? '' : ' ≠'}`;

export function attributionTable(r: AttributionReplayResult, offline: OfflineHitRates, k: number): string {
  const [implicit, explicit] = r.phases as [(typeof r.phases)[0], (typeof r.phases)[0]];
  const lines = [
    `online attribution replay: ${r.answers} answers (${r.failedQueries} failed), ${implicit.plays} held-out plays replayed twice: without a recommendationId (implicit), then naming the answer for the ${explicit.named} listed artists (explicit)`,
    '',
    `| variant | listeners | lists served live / offline | lists with a hit live / offline | hit plays live / offline | explicit hits live / offline | hit rate (lists with a hit / served) [95 % Wilson] | offline harness hit rate@${k}, same listeners | served lists P@${k} / nDCG@${k} |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const v of r.variants) {
    const p = r.perVariant[v.name]!;
    const live = implicit.live[v.name]?.lists;
    const want = implicit.expected[v.name]?.lists;
    const off = offline[v.name];
    lines.push(
      `| ${v.name} | ${p.listeners} | ${liveVsOffline(live?.served, want?.served)} | ${liveVsOffline(live?.hitLists, want?.hitLists)} | ${liveVsOffline(live?.hits, want?.hits)} | ${liveVsOffline(explicit.live[v.name]?.lists.explicit, explicit.expected[v.name]?.lists.explicit)} | ${interval(p.hitRate)} | ${off ? interval(off) : '—'} | ${p.metrics['precision@k'].toFixed(4)} / ${p.metrics['ndcg@k'].toFixed(4)} |`,
    );
  }
  lines.push('');
  for (const v of r.variants)
    lines.push(
      `hits by position, ${v.name} (implicit; live = offline unless listed below): ${Object.entries(
        r.perVariant[v.name]!.positions,
      )
        .map(([f, n]) => `${f} ${n}`)
        .join(', ')}`,
    );
  lines.push('');
  if (r.mismatches.length === 0 && r.variantDisagreements.length === 0)
    lines.push(
      'counts: live == offline for every variant, field (served, hitLists, hits, explicit, p1…, plays, recPlays) and phase',
    );
  else
    lines.push(
      `ATTRIBUTION MISMATCH (${r.mismatches.length + r.variantDisagreements.length}):`,
      ...[...r.mismatches, ...r.variantDisagreements].map((m) => `  ${m}`),
    );
  const [a, b] = r.variants.map((v) => v.name) as [string, string];
  lines.push(
    `${a} vs ${b}: ${r.apart ? 'APART' : 'NOT apart'} (95 % Wilson intervals ${interval(r.perVariant[a]!.hitRate)} and ${interval(r.perVariant[b]!.hitRate)})`,
    neededLine(r),
  );
  return lines.join('\n');
}

function neededLine(r: AttributionReplayResult): string {
  const s = r.needed.subsample;
  const levels = Object.entries(s.needed)
    .map(([level, n]) => `≥ ${Math.round(100 * Number(level))} % of draws: ${n ?? `not within ${r.answers}`}`)
    .join('; ');
  const power = r.needed.power;
  return (
    `listeners needed for the intervals to be apart — subsampling (${s.draws} seeded draws of n listeners per step of ${s.step}): ${levels}. ` +
    `Power calculation from the observed rates (normal approximation, two equal arms): ${power['0.5'] ?? '—'} (50 % power), ${power['0.8'] ?? '—'} (80 % power)`
  );
}

/** What --out writes for the replay (the per-listener outcomes and the curve's tail left out). */
export function attributionJson(r: AttributionReplayResult, offline: OfflineHitRates, load: number[]) {
  return {
    protocol:
      'served lists of every test listener (GET /users/{id}/recommendations?kind=artist&limit=k), then every held-out pair as a play at now: without recommendationId (implicit), then again naming the answer for listed artists (explicit); counters summed over hours and strategies per variant',
    variants: r.variants,
    answers: r.answers,
    failedQueries: r.failedQueries,
    mismatches: [...r.mismatches, ...r.variantDisagreements],
    phases: r.phases,
    perVariant: r.perVariant,
    offlineHitRate: offline,
    apart: r.apart,
    listenersNeeded: {
      subsample: r.needed.subsample,
      power: r.needed.power,
      curve: r.needed.curve.filter((c, i, all) => i === 0 || all[i - 1]!.apartShare < 0.99 || c.apartShare < 0.99),
    },
    loadAverage: load,
    seconds: r.seconds,
  };
}
