import { describe, expect, it } from 'vitest';
import { capPerArtist, diversityPool, spreadArtists } from '../../../../shared/domain/ranking/diversity.ts';
import { rankCandidates } from '../../../../shared/domain/ranking/rank.ts';
import {
  DEFAULT_SESSION,
  nowScores,
  type RecentListen,
  type SeedLists,
  sessionOf,
} from '../../../../shared/domain/ranking/session.ts';
import { similarItems } from '../../../../shared/domain/ranking/similar.ts';
import type { CandidateItem, PreparedItems } from '../../../../shared/domain/ranking/types.ts';

const NOW = Date.UTC(2026, 11, 5, 20);
const MIN = 60_000;
const list = (entries: [string, number][]): PreparedItems => ({
  ids: entries.map(([id]) => id),
  weights: Float64Array.from(entries.map(([, w]) => w)),
});
const play = (trackId: string, ago: number, type: RecentListen['type'] = 'play'): RecentListen => ({
  trackId,
  artistId: `a-${trackId}`,
  ts: NOW - ago,
  type,
});

describe('sessionOf', () => {
  it('weighs plays by recency within the window, likes more, and has no strength without plays', () => {
    expect(sessionOf([], 'track', NOW)).toMatchObject({ strength: 0 });
    const s = sessionOf(
      [play('t1', 0), play('t2', 15 * MIN), play('t3', 61 * MIN), play('t4', MIN, 'like')],
      'track',
      NOW,
    );
    expect(s.seeds.get('t1')).toBeCloseTo(1, 9);
    expect(s.seeds.get('t2')).toBeCloseTo(0.5, 9);
    expect(s.seeds.has('t3')).toBe(false); // outside the hour: not a seed, still recent
    expect(s.recent.has('t3')).toBe(true);
    expect(s.seeds.get('t4')).toBeCloseTo(1.5 * 2 ** (-1 / 15), 9);
    expect(s.strength).toBeGreaterThan(0);
    expect(s.strength).toBeLessThanOrEqual(DEFAULT_SESSION.maxStrength);
  });

  it('grows with the plays: one fresh play ≈ 0.44, three ≈ 0.67', () => {
    expect(sessionOf([play('t1', 0)], 'track', NOW).strength).toBeCloseTo(0.7 * (1 - Math.exp(-1)), 9);
    const three = sessionOf([play('t1', 0), play('t1', 0), play('t1', 0)], 'track', NOW);
    expect(three.strength).toBeCloseTo(0.7 * (1 - Math.exp(-3)), 9);
    expect(three.seeds.size).toBe(1);
  });

  it('never seeds with a skipped or disliked item, even one also played', () => {
    const s = sessionOf([play('t1', 0, 'skip'), play('t1', MIN), play('t2', 0, 'dislike')], 'track', NOW);
    expect(s.seeds.size).toBe(0);
    expect(s.strength).toBe(0);
    expect([...s.recent].sort()).toEqual(['t1', 't2']);
  });

  it('reads artists for an artist answer', () => {
    expect([...sessionOf([play('t1', 0)], 'artist', NOW).seeds.keys()]).toEqual(['a-t1']);
  });
});

describe('nowScores', () => {
  const lists = new Map<string, SeedLists>([
    [
      's1',
      {
        similar: list([
          ['x', 10],
          ['y', 5],
        ]),
        content: list([['z', 0.9]]),
      },
    ],
    ['s2', { similar: list([['y', 2]]) }],
  ]);
  it('normalizes each seed list by its top weight, blends ω : κ, and names the strongest seed', () => {
    const scores = nowScores(new Map([['s1', 1]]), (id) => lists.get(id), { itemBlend: 0.6, contentBlend: 0.2 });
    expect(scores.get('x')).toEqual({ score: 1, seed: 's1' });
    expect(scores.get('y')!.score).toBeCloseTo(0.5, 9);
    expect(scores.get('z')!.score).toBeCloseTo(0.25 / 0.75, 9);
  });
  it('adds seeds by their weight and leaves seeds and excluded items out', () => {
    const scores = nowScores(
      new Map([
        ['s1', 1],
        ['s2', 2],
      ]),
      (id) => lists.get(id),
      { itemBlend: 0.6, contentBlend: 0.2 },
      (id) => id === 'z',
    );
    expect(scores.get('y')).toEqual({ score: 1, seed: 's2' });
    expect(scores.has('z')).toBe(false);
    expect(scores.has('s1')).toBe(false);
  });
});

describe('the now part in the one ranking', () => {
  const catalog: CandidateItem[] = ['p1', 'p2', 'p3'].map((id, i) => ({
    id,
    genres: { shoegaze: 1 },
    popularity: 90 - i,
  }));
  const profile = { genres: { shoegaze: 5 }, topArtists: {}, topTracks: { mine: 3 } };
  const input = { kind: 'track' as const, profile, catalog, limit: 5 };
  const nowPart = (strength: number) => ({
    scores: nowScores(
      new Map([['seed', 1]]),
      () => ({
        similar: list([
          ['jazz1', 1],
          ['jazz2', 0.5],
        ]),
      }),
      {
        itemBlend: 1,
        contentBlend: 0,
      },
    ),
    strength,
    seedLabel: () => 'Miles Davis',
  });
  it('is exactly the long-term answer without a session', () => {
    expect(rankCandidates({ ...input, now: nowPart(0) })).toEqual(rankCandidates(input));
  });
  it('pulls the session neighbours in, with the reason, blended by strength', () => {
    const r = rankCandidates({ ...input, now: nowPart(0.6) });
    expect(r.items.map((i) => i.id).slice(0, 2)).toEqual(['jazz1', 'p1']);
    expect(r.items[0]!.reasons).toEqual(['because you just played Miles Davis']);
    expect(r.items.find((i) => i.id === 'jazz2')).toBeDefined();
    const weak = rankCandidates({ ...input, now: nowPart(0.2) });
    expect(weak.items[0]!.id).toBe('p1');
  });
  it('gives the session round(s · p) of the first p positions, whatever the two parts score', () => {
    // Long-term scores all near their max (genre match 1, popularity close), the session's too:
    // a blend of scores gave the list wholly to one part.
    const many: CandidateItem[] = Array.from({ length: 20 }, (_, i) => ({
      id: `p${String(i).padStart(2, '0')}`,
      genres: { shoegaze: 1 },
      popularity: 90 - i,
    }));
    const session = (strength: number) => ({
      scores: nowScores(
        new Map([['seed', 1]]),
        () => ({ similar: list(Array.from({ length: 20 }, (_, i) => [`jazz${i}`, 1 - i / 100] as [string, number])) }),
        { itemBlend: 1, contentBlend: 0 },
      ),
      strength,
    });
    for (const [strength, fromSession] of [
      [0.44, 4],
      [0.67, 7],
      [0.2, 2],
    ] as const) {
      const r = rankCandidates({ kind: 'track', profile, catalog: many, limit: 10, now: session(strength) });
      const ids = r.items.map((i) => i.id);
      expect(ids.filter((id) => id.startsWith('jazz')).length, `s = ${strength}`).toBe(fromSession);
      // Each part keeps its own order, and the scores read down the list.
      expect(ids.filter((id) => id.startsWith('p'))).toEqual(many.map((c) => c.id).slice(0, 10 - fromSession));
      for (let k = 1; k < r.items.length; k++) expect(r.items[k]!.score).toBeLessThanOrEqual(r.items[k - 1]!.score);
    }
  });
  it('never answers excluded ids, even from the session', () => {
    const r = rankCandidates({ ...input, exclude: new Set(['jazz1']), now: nowPart(0.6) });
    expect(r.items.map((i) => i.id)).not.toContain('jazz1');
  });
});

describe('diversity', () => {
  const ranked = ['a1', 'a2', 'a3', 'b1', 'c1', 'b2'].map((id) => ({ id }));
  const artistOf = (id: string) => id[0];
  it('caps items per artist best first, and asks for a larger pool when capping', () => {
    expect(capPerArtist(ranked, artistOf, 2, 4).map((i) => i.id)).toEqual(['a1', 'a2', 'b1', 'c1']);
    expect(capPerArtist(ranked, artistOf, 1, 10).map((i) => i.id)).toEqual(['a1', 'b1', 'c1']);
    expect(capPerArtist(ranked, () => undefined, 1, 3).map((i) => i.id)).toEqual(['a1', 'a2', 'a3']);
    expect(diversityPool(10, 2)).toBeGreaterThanOrEqual(30);
    expect(diversityPool(10, 10)).toBe(10);
  });
  it('spreads artists so none plays twice in a row where avoidable', () => {
    const out = spreadArtists(
      ['a1', 'a2', 'b1', 'b2'].map((id) => ({ id })),
      artistOf,
    ).map((i) => i.id);
    expect(out).toEqual(['a1', 'b1', 'a2', 'b2']);
    expect(
      spreadArtists(
        ['a1', 'a2'].map((id) => ({ id })),
        artistOf,
      ).map((i) => i.id),
    ).toEqual(['a1', 'a2']);
  });
});

describe('similarItems', () => {
  it('answers the co-listening list in its order, then what only the content list adds, and says why', () => {
    const lists = {
      similar: list([
        ['a', 4],
        ['b', 2],
        ['x', 1],
      ]),
      content: list([
        ['c', 1],
        ['b', 0.9],
        ['d', 0.5],
      ]),
    };
    const out = similarItems('x', lists, 10);
    // The item itself never; c is tagged more alike than b but was never played with x.
    expect(out.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(out[0]).toMatchObject({ together: true, tagged: false, score: 1 });
    expect(out[1]).toMatchObject({ together: true, tagged: true, score: 0.5 });
    // Content-only items score below the last co-listened one: their cosine over the top one's, scaled.
    expect(out[2]).toMatchObject({ together: false, tagged: true, score: 0.5 });
    expect(out[3]).toMatchObject({ together: false, tagged: true, score: 0.25 });
    expect(similarItems('x', lists, 1).map((s) => s.id)).toEqual(['a']);
    expect(similarItems('x', lists, 10, (id) => id === 'a' || id === 'c').map((s) => s.id)).toEqual(['b', 'd']);
    // Without co-listening (an item too new for it), content alone answers.
    expect(similarItems('x', { content: lists.content }, 2).map((s) => [s.id, s.score])).toEqual([
      ['c', 1],
      ['b', 0.9],
    ]);
    expect(similarItems('x', undefined, 10)).toEqual([]);
  });
});
