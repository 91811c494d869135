/**
 * `npm run eval -- … --online` on a tiny generated data set: trained through the pipeline with the
 * control and popular variants, every test listener served, their held-out items replayed as plays
 * (implicitly, then naming the answer): the attributor's counters must equal the counts from the
 * answers the read API gave, field for field (real broker and DynamoDB Local from the global setup).
 */
import { describe, expect, inject, it } from 'vitest';
import type { GenreWeights } from '../../shared/domain/genres.ts';
import { REPLAY_VARIANTS, replayVariantOf, runAttributionReplay } from '../../tools/eval/attribution-replay.ts';
import type { EvalData } from '../../tools/eval/evaluate.ts';
import type { Interaction } from '../../tools/eval/protocol.ts';

// Two taste clusters of 8 artists; each listener plays 6 of their cluster's and holds out 2 (so a
// list of 3 can hold 0, 1 or 2 of them), and one artist of the other cluster is everyone's: the
// popularity-only ranking has something to prefer.
function clusters(): EvalData {
  const train: Interaction[] = [];
  const test: Interaction[] = [];
  for (let u = 0; u < 30; u++) {
    const c = u % 2 === 0 ? 'a' : 'b';
    const held = new Set([u % 8, (u + 3) % 8]);
    for (let i = 0; i < 8; i++) (held.has(i) ? test : train).push({ user: `q${u}`, item: `${c}${i}`, plays: 1 });
    train.push({ user: `q${u}`, item: c === 'a' ? 'b0' : 'a0', plays: 1 });
  }
  const items = [...new Set([...train, ...test].map((r) => r.item))].sort();
  const genres = new Map<string, GenreWeights>(
    items.map((i): [string, GenreWeights] => [i, i.startsWith('a') ? { rock: 1 } : { jazz: 1 }]),
  );
  const tags = new Map(items.map((i) => [i, { [i.startsWith('a') ? 'guitar' : 'brass']: 3, [i]: 1 }] as const));
  return { train, test, items, genres, tags, k: 3 };
}

describe('the online attribution replay', () => {
  it('counts exactly what the served lists and the replayed plays say, implicitly and explicitly', async () => {
    Object.assign(process.env, {
      KAFKA_BROKERS: inject('kafkaBrokers').join(','),
      DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const data = clusters();
    const lines: string[] = [];
    const r = await runAttributionReplay(data, (l) => lines.push(l));
    expect(r.failedQueries).toBe(0);
    expect(r.answers).toBe(30);
    expect(r.variantDisagreements).toEqual([]);
    expect(r.mismatches, lines.slice(-20).join('\n')).toEqual([]);

    // Both variants served, and the counts compared are not trivially zero.
    const [implicit, explicit] = r.phases;
    for (const v of REPLAY_VARIANTS) {
      const listeners = [...new Set(data.test.map((t) => t.user))].filter((u) => replayVariantOf(u) === v.name);
      expect(listeners.length, `listeners of ${v.name}`).toBeGreaterThan(0);
      expect(implicit!.live[v.name]?.lists.served).toBe(listeners.length);
      expect(implicit!.live[v.name]?.plays.plays).toBe(2 * listeners.length);
    }
    const control = r.perVariant.control!;
    expect(control.hits).toBeGreaterThan(0);
    expect(implicit!.live.control!.lists).toEqual(implicit!.expected.control!.lists);
    // The explicit replay names the answer for exactly the listed plays, and no list gains a second "first hit".
    const hits = REPLAY_VARIANTS.reduce((a, v) => a + (implicit!.live[v.name]?.lists.hits ?? 0), 0);
    expect(explicit!.named).toBe(hits);
    expect(explicit!.live.control!.lists.explicit).toBe(control.hits);
    expect(explicit!.live.control!.lists.hitLists).toBe(control.hitLists);
  }, 60_000);
});
