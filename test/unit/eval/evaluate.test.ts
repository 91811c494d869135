import { describe, expect, it } from 'vitest';
import type { ListenEventV1 } from '../../../shared/domain/events/events.ts';
import type { GenreWeights } from '../../../shared/domain/genres.ts';
import { buildProfile } from '../../../shared/domain/profile/profile.ts';
import {
  DEFAULT_SYSTEM,
  type EvalData,
  runMostPop,
  runRp3beta,
  runSystem,
  runUserKnn,
} from '../../../tools/eval/evaluate.ts';
import { type Interaction, mulberry32 } from '../../../tools/eval/protocol.ts';
import { prepareItemModel } from '../../../tools/eval/sql-model.ts';
import { compareProfiles, streamProfile } from '../../../tools/eval/streaming.ts';

// Two taste clusters: users 0–9 play items a0–a9, users 10–19 play b0–b9 (each skips two items
// of their cluster). The held-out item of each user is one of their cluster's items.
function clusters(): EvalData {
  const train: Interaction[] = [];
  const test: Interaction[] = [];
  for (let u = 0; u < 20; u++) {
    const c = u < 10 ? 'a' : 'b';
    for (let i = 0; i < 10; i++) {
      if (i === u % 10 || i === (u + 1) % 10) continue;
      train.push({ user: `u${u}`, item: `${c}${i}`, plays: 1 + i });
    }
    test.push({ user: `u${u}`, item: `${c}${u % 10}`, plays: 1 });
  }
  // A globally popular item in neither cluster's test set.
  for (let u = 0; u < 20; u += 2) train.push({ user: `u${u}`, item: 'pop', plays: 1 });
  const items = [...new Set([...train, ...test].map((r) => r.item))].sort();
  const genres = new Map<string, GenreWeights>(
    items.map((i): [string, GenreWeights] => [i, i.startsWith('a') ? { rock: 1 } : { jazz: 1 }]),
  );
  return { train, test, items, genres, k: 2 };
}

describe('offline evaluation runs', () => {
  it('the system and UserKNN find the held-out cluster item; MostPop does not', async () => {
    const data = clusters();
    const cache = {};
    await prepareItemModel(data, DEFAULT_SYSTEM, cache);
    const sys = runSystem(data, { neighbors: 5 }, cache);
    // Each user's top 2 are their cluster's two unseen items, one of which is held out.
    expect(sys.metrics['recall@k']).toBe(1);
    expect(sys.metrics['precision@k']).toBe(0.5);
    for (const [u, list] of sys.lists)
      expect(list.every((i) => i[0] === (Number(u.slice(1)) < 10 ? 'a' : 'b'))).toBe(true);
    expect(runUserKnn(data, 5)['recall@k']).toBe(1);
    expect(runRp3beta(data, { alpha: 1, beta: 0.5, topK: 20 })['recall@k']).toBe(1);
    expect(runMostPop(data)['recall@k']).toBeLessThan(1);
  });
});

describe('streaming replay equals the batch build', () => {
  it('shuffled, batched, redelivered events on several partitions give the batch profile', () => {
    const rand = mulberry32(11);
    const events: ListenEventV1[] = [];
    for (let i = 0; i < 300; i++)
      events.push({
        eventId: `e${i}`,
        userId: 'u',
        artistId: `a${i % 17}`,
        ts: Date.UTC(2011, 0, 1) + Math.floor(rand() * 200) * 86_400_000,
        type: i % 11 === 0 ? 'skip' : 'play',
      });
    const genresOf = (e: ListenEventV1): GenreWeights =>
      Number(e.artistId!.slice(1)) % 2 ? { rock: 1 } : { jazz: 0.5, pop: 0.5 };
    const batch = buildProfile('u', events, { genresOf });
    const streamed = streamProfile('u', events, mulberry32(5), genresOf);
    expect(compareProfiles(batch, streamed)).toBeNull();
    expect(streamed.counts.events).toBe(300);
    // The comparison can fail: dropping one event is detected.
    const missing = streamProfile('u', events.slice(1), mulberry32(5), genresOf);
    expect(compareProfiles(batch, missing)).not.toBeNull();
  });
});
