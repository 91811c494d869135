/** A trigger's records → validated values or dead letters, on the samples in events/. */
import { describe, expect, it } from 'vitest';
import { decodeMskEvent } from '../../../shared/adapters/kafka.ts';
import { CatalogRecordV1, DeadLetterV1, ListenEventV1 } from '../../../shared/domain/events/events.ts';
import { validateRecords } from '../../../shared/handlers/records.ts';
import { mskSample } from '../../support/samples.ts';

const opts = { maxBytes: 1_000_000, functionName: 'profile-updater' };

describe('validateRecords', () => {
  it('passes the valid listens on and dead-letters the record that is not JSON, with its coordinates', () => {
    const records = decodeMskEvent(mskSample('profile-updater.json'));
    expect(records.map((r) => [r.topicPartition, r.offset, r.key])).toEqual([
      ['listen-events-0', 100, 'demo-ana'],
      ['listen-events-0', 101, 'demo-ana'],
      ['listen-events-0', 102, 'demo-ana'],
    ]);
    const { valid, deadLetters } = validateRecords(records, ListenEventV1, opts);
    expect(valid.map((v) => v.value.eventId)).toEqual(['sample-demo-ana-0', 'sample-demo-ana-1']);
    expect(valid[0]!.record).toBe(records[0]);
    expect(deadLetters).toHaveLength(1);
    const letter = DeadLetterV1.parse(deadLetters[0]);
    expect(letter).toMatchObject({
      reason: 'invalid-json',
      sourceTopic: 'listen-events',
      partition: 0,
      offset: 102,
      key: Buffer.from('demo-ana').toString('base64'),
      function: 'profile-updater',
    });
    expect(Buffer.from(letter.value, 'base64').toString('utf8')).toBe('{"this is": not json');
  });

  it('dead-letters records over the size limit and records that fail the schema, with the issues', () => {
    const records = decodeMskEvent(mskSample('catalog-updater.json'));
    expect(validateRecords(records, CatalogRecordV1, opts).valid).toHaveLength(2);
    const tooLarge = validateRecords(records, CatalogRecordV1, { ...opts, maxBytes: 10 }).deadLetters;
    expect(tooLarge.map((d) => d.reason)).toEqual(['too-large', 'too-large']);
    const wrongSchema = validateRecords(records, ListenEventV1, opts).deadLetters;
    expect(wrongSchema.map((d) => d.reason)).toEqual(['invalid-schema', 'invalid-schema']);
    expect(wrongSchema[0]!.error).toContain('userId: ');
  });
});
