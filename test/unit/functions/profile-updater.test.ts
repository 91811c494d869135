/** The profile updater's batch grouping, on the sample MSK event in events/. */
import { describe, expect, it } from 'vitest';
import { groupByUser } from '../../../functions/profile-updater/handler.ts';
import { decodeMskEvent } from '../../../shared/adapters/kafka.ts';
import { ListenEventV1 } from '../../../shared/domain/events/events.ts';
import { validateRecords } from '../../../shared/handlers/records.ts';
import { mskSample } from '../../support/samples.ts';

describe('groupByUser', () => {
  it("groups a batch's valid listens per user, in offset order, with their partition and offset", () => {
    const records = decodeMskEvent(mskSample('profile-updater.json'));
    const { valid } = validateRecords(records, ListenEventV1, { maxBytes: 1_000_000, functionName: 'profile-updater' });
    const other = { ...valid[0]!, value: { ...valid[0]!.value, userId: 'demo-bo' }, record: { ...records[2]! } };
    const byUser = groupByUser([...valid, other]);
    expect([...byUser.keys()]).toEqual(['demo-ana', 'demo-bo']);
    expect(byUser.get('demo-ana')!.map((r) => [r.topicPartition, r.offset, r.event.eventId])).toEqual([
      ['listen-events-0', 100, 'sample-demo-ana-0'],
      ['listen-events-0', 101, 'sample-demo-ana-1'],
    ]);
    expect(byUser.get('demo-bo')!.map((r) => r.offset)).toEqual([102]);
  });
});
