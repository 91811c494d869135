/**
 * Exactly-once in effect, reduced: 3,000 events through the pipeline in a child process that is
 * SIGKILLed twice and has its committed offsets rewound once; every profile must equal the batch
 * reference. The full-size run is `npm run chaos -- --events 100000 --kills 5` (RELIABILITY.md).
 */
import { describe, expect, inject, it } from 'vitest';
import { emptyProfile } from '../../shared/domain/profile/profile.ts';
import { runChaos } from '../../tools/chaos/run.ts';
import { compareProfiles, generateWorkload, referenceProfiles } from '../../tools/chaos/workload.ts';

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
  });
});
