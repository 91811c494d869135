/**
 * The item-to-item check (`npm run eval`, issue #22): how well "artists similar to this one"
 * predicts a listener's held-out artists, for the product's `similarItems` (what
 * `GET /artists/{id}/similar` answers from the item model's co-listening and content lists)
 * against RP3beta's item–item lists
 * (`itemNeighborLists` with the tuned baseline's α, β, top-K) in the same harness.
 *
 * Protocol (EVALUATION.md, "Item to item"): every test user, seeded by one of their training
 * artists at a time — every training artist (each user's hit rate averaged over their seeds, then
 * over users) and, apart, the strongest only (most plays in user_artists.dat, ties by id). A
 * query's answer is the method's top `k` after leaving out the seed and the user's other training
 * artists (what they already play, as the main protocol leaves out training items); a list
 * shorter than `k` after that is not padded. Ties: by score, then id (both methods). A hit: at
 * least one of the user's held-out artists in the top `k`; recall: the share of them found.
 */

import type { ItemModel } from '../../shared/domain/item-model/item-model.ts';
import { itemNeighborLists } from '../../shared/domain/item-model/item-neighbors.ts';
import { similarItems } from '../../shared/domain/ranking/similar.ts';
import type { PreparedItems } from '../../shared/domain/ranking/types.ts';
import type { EvalData, Rp3betaParams } from './evaluate.ts';
import { getOrInit } from './protocol.ts';

export interface ItemToItemScore {
  /** Mean over users of the share of their queries with ≥ 1 held-out artist in the top k. */
  hitRate: number;
  /** Mean over users of the mean share of their held-out artists in a query's top k. */
  recall: number;
  /** Mean answer length (< k where the lists run out after the exclusions). */
  meanLength: number;
}

export interface ItemToItemResult {
  k: number;
  users: number;
  /** Every training artist of a test user as a seed. */
  everySeed: { queries: number; product: ItemToItemScore; rp3beta: ItemToItemScore };
  /** The user's most-played training artist as the only seed. */
  strongestSeed: { queries: number; product: ItemToItemScore; rp3beta: ItemToItemScore };
}

type Ranker = (seed: string, exclude: (id: string) => boolean) => string[];

/** The top `k` of a ranked list, skipping excluded ids (the list is already by weight, then id). */
function topOfList(list: PreparedItems | undefined, k: number, exclude: (id: string) => boolean): string[] {
  const out: string[] = [];
  if (!list) return out;
  for (const id of list.ids) {
    if (out.length === k) break;
    if (!exclude(id)) out.push(id);
  }
  return out;
}

export function itemToItemCheck(
  data: EvalData,
  model: Pick<ItemModel, 'similar' | 'content'>,
  rp3: Rp3betaParams,
): ItemToItemResult {
  const k = data.k;
  const train = new Map<string, Map<string, number>>();
  for (const r of data.train) getOrInit(train, r.user, () => new Map()).set(r.item, r.plays);
  const test = new Map<string, Set<string>>();
  for (const r of data.test) getOrInit(test, r.user, () => new Set()).add(r.item);

  const rp3Lists = itemNeighborLists(
    [...train.values()].map((items) => [...items.keys()]),
    rp3,
  );
  const product: Ranker = (seed, exclude) =>
    similarItems(seed, { similar: model.similar.get(seed), content: model.content.get(seed) }, k, exclude).map(
      (s) => s.id,
    );
  const baseline: Ranker = (seed, exclude) => topOfList(rp3Lists.get(seed), k, exclude);

  const run = (seedsOf: (own: Map<string, number>) => string[]) => {
    const sums = { product: { hit: 0, recall: 0, len: 0 }, rp3beta: { hit: 0, recall: 0, len: 0 } };
    let users = 0;
    let queries = 0;
    for (const [user, held] of test) {
      const own = train.get(user);
      if (!own || own.size === 0) continue;
      const seeds = seedsOf(own);
      users++;
      queries += seeds.length;
      const exclude = (id: string) => own.has(id);
      for (const [name, rank] of [
        ['product', product],
        ['rp3beta', baseline],
      ] as const) {
        let hit = 0;
        let recall = 0;
        let len = 0;
        for (const seed of seeds) {
          const top = rank(seed, exclude);
          const found = top.filter((id) => held.has(id)).length;
          if (found > 0) hit++;
          recall += found / held.size;
          len += top.length;
        }
        sums[name].hit += hit / seeds.length;
        sums[name].recall += recall / seeds.length;
        sums[name].len += len / seeds.length;
      }
    }
    const score = (s: { hit: number; recall: number; len: number }): ItemToItemScore => ({
      hitRate: s.hit / Math.max(1, users),
      recall: s.recall / Math.max(1, users),
      meanLength: s.len / Math.max(1, users),
    });
    return { users, queries, product: score(sums.product), rp3beta: score(sums.rp3beta) };
  };

  const every = run((own) => [...own.keys()].sort());
  const strongest = run((own) => {
    let best: [string, number] | undefined;
    for (const [id, plays] of own)
      if (!best || plays > best[1] || (plays === best[1] && id < best[0])) best = [id, plays];
    return [best![0]];
  });
  return {
    k,
    users: every.users,
    everySeed: { queries: every.queries, product: every.product, rp3beta: every.rp3beta },
    strongestSeed: { queries: strongest.queries, product: strongest.product, rp3beta: strongest.rp3beta },
  };
}

const f = (x: number) => x.toFixed(4);

/** The check as a markdown table (one row per seed choice and method). */
export function itemToItemTable(r: ItemToItemResult): string {
  const rows: string[] = [
    `| seeds | method | hit rate@${r.k} | recall@${r.k} | mean length |`,
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [label, part] of [
    [`every training artist (${r.everySeed.queries} queries)`, r.everySeed],
    [`strongest training artist (${r.strongestSeed.queries} queries)`, r.strongestSeed],
  ] as const) {
    rows.push(
      `| ${label} | product similarItems | ${f(part.product.hitRate)} | ${f(part.product.recall)} | ${part.product.meanLength.toFixed(1)} |`,
    );
    rows.push(
      `| ${label} | RP3beta item-item | ${f(part.rp3beta.hitRate)} | ${f(part.rp3beta.recall)} | ${part.rp3beta.meanLength.toFixed(1)} |`,
    );
  }
  return rows.join('\n');
}
