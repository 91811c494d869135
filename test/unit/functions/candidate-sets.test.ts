import { describe, expect, it } from 'vitest';
import { packWithinBudget, stateBudget } from '../../../functions/neighbor-updater/candidate-sets.ts';
import { unpackCandidateSet } from '../../../shared/domain/ranking/candidate-codec.ts';
import { buildCandidates } from '../../../shared/domain/ranking/components.ts';
import { rankCandidates } from '../../../shared/domain/ranking/rank.ts';
import type { CandidateKind, CandidateList, NeighborItems } from '../../../shared/domain/ranking/types.ts';
import { rng } from '../../../shared/random.ts';

/** Lists of `size` per kind from 50 random neighbours over ids made by `idOf`. */
function lists(idOf: (i: number) => string, size: number, seed = 7): Record<CandidateKind, CandidateList> {
  const random = rng(seed);
  const neighbors: NeighborItems[] = Array.from({ length: 50 }, (_, u) => ({
    userId: `n${u}`,
    similarity: 0.2 + random() * 0.8,
    topItems: Object.fromEntries(
      Array.from({ length: 50 }, () => [idOf(Math.floor(random() * 2000)), 1 + random() * 20]),
    ),
  }));
  const build = (kind: CandidateKind) => buildCandidates({ kind, ownItems: {}, neighbors, size }).list;
  return { track: build('track'), artist: build('artist') };
}

const meta = { modelId: 'a1|t1', builtAt: Date.UTC(2026, 11, 2), profileVersion: 42 };

describe('candidate sets within one write unit', () => {
  it('keeps a set that already fits as built', () => {
    const built = lists((i) => String(i), 40);
    const { state, lists: kept } = packWithinBudget(built, meta, stateBudget('1234'));
    expect(state.byteLength).toBeLessThanOrEqual(stateBudget('1234'));
    expect(kept.track!.ids).toEqual(built.track.ids);
    expect(kept.artist!.ids).toEqual(built.artist.ids);
  });

  it('trims long ids to the budget, keeping the best candidates of each kind', () => {
    const uuid = (i: number) =>
      `${(i * 2654435761).toString(16).padStart(8, '0')}-4b1c-9d2e-${String(i).padStart(12, '0')}`;
    const built = lists(uuid, 75);
    const budget = stateBudget('user-0001');
    const { state, lists: kept } = packWithinBudget(built, meta, budget);
    expect(state.byteLength).toBeLessThanOrEqual(budget);
    const set = unpackCandidateSet(state);
    expect(set.profileVersion).toBe(42);
    for (const kind of ['track', 'artist'] as const) {
      expect(kept[kind]!.ids.length).toBeLessThan(75);
      expect(set[kind]!.ids).toEqual(kept[kind]!.ids);
      // The top of the ranking is unchanged by the trim.
      const top = (list: CandidateList) => rankCandidates({ kind, list, limit: 10 }).items.map((r) => r.id);
      expect(top(set[kind]!)).toEqual(top(built[kind]));
    }
  });
});
