/**
 * Exactly-once in effect, reduced: 3,000 events (and the served lists before them) through the
 * pipeline in a child process that is SIGKILLed twice and has its committed offsets rewound once;
 * every profile must equal the batch reference and every attribution counter its reference. The
 * full-size run is `npm run chaos -- --events 100000 --kills 5` (RELIABILITY.md).
 */
import { describe, expect, inject, it } from 'vitest';
import type { CounterRow } from '../../shared/adapters/dynamodb/experiments.ts';
import { HOUR_MS, parseCounterKey } from '../../shared/domain/experiments/attribution.ts';
import { emptyProfile } from '../../shared/domain/profile/profile.ts';
import { runChaos } from '../../tools/chaos/run.ts';
import {
  compareCounters,
  compareProfiles,
  generateWorkload,
  referenceCounters,
  referenceProfiles,
} from '../../tools/chaos/workload.ts';

describe('chaos: kills and redelivery', () => {
  it('the comparison catches a double-applied or lost event, and a wrong session', () => {
    const { events } = generateWorkload({ events: 200, users: 5, seed: 7 });
    const ref = referenceProfiles(events, { genresOf: () => ({ rock: 1 }) });
    const [userId, want] = [...ref.entries()][0]!;
    const mine = events.filter((e) => e.userId === userId);
    const twice = referenceProfiles([...mine, { ...mine[0]!, eventId: 'replayed-as-new' }], {
      genresOf: () => ({ rock: 1 }),
    }).get(userId)!;
    expect(compareProfiles(twice, want).length).toBeGreaterThan(0);
    expect(compareProfiles(emptyProfile(userId), want).length).toBeGreaterThan(0);
    expect(compareProfiles(structuredClone(want), want)).toEqual([]);
    // The session is compared listen by listen: order, and a missing listen.
    expect(want.recent.length).toBeGreaterThan(1);
    const swapped = structuredClone(want);
    [swapped.recent[0], swapped.recent[1]] = [swapped.recent[1]!, swapped.recent[0]!];
    expect(compareProfiles(swapped, want)).toEqual([expect.stringMatching(/^recent\[0\] /)]);
    const shorter = { ...structuredClone(want), recent: want.recent.slice(1) };
    expect(compareProfiles(shorter, want)[0]).toMatch(/^recent: \d+ listens ≠ \d+/);
  });

  it('the attribution reference counts explicit and implicit hits, a list once; the comparison catches a double count', () => {
    const work = generateWorkload({ events: 3000, users: 150, seed: 4242 });
    expect(work.servedLists.length).toBeGreaterThan(0);
    expect(work.naming).toBeGreaterThan(0);
    const ref = referenceCounters(work, { windowMs: 24 * HOUR_MS, maxPositions: 20, variantOf: () => 'control' });
    const rows: CounterRow[] = [...ref].map(([k, fields]) => ({ key: parseCounterKey(k)!, fields: { ...fields } }));
    const same = compareCounters(rows, ref);
    expect(same).toMatchObject({ mismatches: 0, examples: [] });
    const t = same.stored;
    expect(t.served).toBe(work.servedLists.length - work.servedDuplicates);
    expect(t.plays).toBe(work.events.filter((e) => e.type === 'play' || e.type === 'like').length);
    expect(t.explicit).toBeGreaterThan(0);
    expect(t.hits).toBeGreaterThan(t.explicit!);
    expect(t.hitLists).toBeLessThanOrEqual(Math.min(t.served!, t.hits!));
    expect(t.recPlays).toBe(t.hits);
    const hit = rows.find((r) => (r.fields.hits ?? 0) > 0)!;
    hit.fields.hits! += 1;
    rows.push({ key: { ...hit.key, hour: hit.key.hour + 1 }, fields: { served: 1 } });
    expect(compareCounters(rows, ref).mismatches).toBe(2);
  });

  it('every profile equals the batch reference after 2 SIGKILLs and 1 rewind', { timeout: 240_000 }, async () => {
    const result = await runChaos({
      kafkaBrokers: inject('kafkaBrokers'),
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      events: 3000,
      kills: 2,
      redeliveries: 1,
      seed: 4242,
    });
    console.log(`chaos: ${JSON.stringify(result)}`);
    expect(result.kills).toBe(2);
    expect(result.redeliveries).toBe(1);
    expect(result.clientDuplicates).toBeGreaterThan(0);
    expect(result.examples).toEqual([]);
    expect(result).toMatchObject({ mismatches: 0, lost: 0, overCounted: 0, deadLettered: 0 });
    expect(result.uniqueEvents).toBe(result.events - result.clientDuplicates);
    // Attribution: the served lists and listens against the pure reference, the attributor's
    // groups rewound too.
    const a = result.attribution;
    expect(a.redelivered.listens + a.redelivered.served).toBeGreaterThan(0);
    expect(a.reference.hits).toBeGreaterThan(0);
    expect(a.reference.explicit).toBeGreaterThan(0);
    expect(a.examples).toEqual([]);
    expect(a).toMatchObject({ mismatches: 0, deadLettered: 0 });
  });
});
