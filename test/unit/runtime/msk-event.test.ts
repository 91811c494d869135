import { KafkaMskEventSchema } from '@aws-lambda-powertools/parser/schemas/kafka';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  buildMskEvent,
  localClusterArn,
  type MskRecord,
  readBatchItemFailures,
  toDeadLetterV1,
  toMskRecord,
  toSignedBytes,
} from '../../../local/runtime/msk-event.ts';
import { DeadLetterV1 } from '../../../shared/domain/events/events.ts';

/** What kafkajs hands to eachBatch (batchContext carries the timestamp type at runtime). */
function message(
  offset: number,
  key: string | null,
  value: string,
  headers: KafkaMessage['headers'] = {},
  logAppend = false,
) {
  return {
    key: key === null ? null : Buffer.from(key),
    value: Buffer.from(value),
    timestamp: String(1_700_000_000_000 + offset),
    attributes: 0,
    offset: String(offset),
    headers,
    batchContext: { timestampType: logAppend ? 1 : 0 },
  } as unknown as KafkaMessage;
}

const source = { eventSourceArn: localClusterArn(), bootstrapServers: '127.0.0.1:9092,127.0.0.1:9093' };

describe('MSK event', () => {
  const records = [
    toMskRecord('t-listen', 1, message(7, 'u1', '{"a":1}', { 'content-type': Buffer.from('application/json') })),
    toMskRecord('t-listen', 0, message(3, null, 'no key', {}, true)),
    toMskRecord('t-listen', 0, message(2, 'u2', 'v2', { trace: [Buffer.from('x'), Buffer.from('y')] })),
  ];
  const event = buildMskEvent(records, source);

  it('has the shape Lambda sends', () => {
    expect(event.eventSource).toBe('aws:kafka');
    expect(event.eventSourceArn).toMatch(/^arn:aws:kafka:us-east-1:000000000000:cluster\/local\//);
    expect(event.bootstrapServers).toBe('127.0.0.1:9092,127.0.0.1:9093');
    expect(Object.keys(event.records)).toEqual(['t-listen-0', 't-listen-1']);
    const p0 = event.records['t-listen-0']!;
    expect(p0.map((r) => r.offset)).toEqual([2, 3]);
    expect(p0[0]).toEqual({
      topic: 't-listen',
      partition: 0,
      offset: 2,
      timestamp: 1_700_000_000_002,
      timestampType: 'CREATE_TIME',
      key: Buffer.from('u2').toString('base64'),
      value: Buffer.from('v2').toString('base64'),
      headers: [{ trace: [120] }, { trace: [121] }],
    });
    expect(p0[1]).not.toHaveProperty('key');
    expect(p0[1]!.timestampType).toBe('LOG_APPEND_TIME');
  });

  it('validates against Powertools KafkaMskEventSchema and round-trips key, value and headers', () => {
    const parsed = KafkaMskEventSchema.parse(event);
    expect(parsed.bootstrapServers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    const [r7] = parsed.records['t-listen-1']!;
    expect(r7).toMatchObject({ key: 'u1', value: '{"a":1}', headers: [{ 'content-type': 'application/json' }] });
    const [r2, r3] = parsed.records['t-listen-0']!;
    expect(r2).toMatchObject({ key: 'u2', value: 'v2', headers: [{ trace: 'x' }, { trace: 'y' }] });
    expect(r3!.key).toBeUndefined();
    expect(r3!.value).toBe('no key');
  });

  it('serializes header bytes as Java signed bytes, which Buffer.from turns back into the bytes', () => {
    const bytes = toSignedBytes('é✓');
    expect(bytes).toEqual([-61, -87, -30, -100, -109]);
    expect(Buffer.from(bytes).toString('utf8')).toBe('é✓');
    const binary = Buffer.from([0, 127, 128, 255]);
    expect(Buffer.from(toSignedBytes(binary))).toEqual(binary);
  });
});

describe('partial batch response', () => {
  const rec = (partition: number, offset: number): MskRecord => ({
    topic: 't',
    partition,
    offset,
    timestamp: 0,
    timestampType: 'CREATE_TIME',
    value: '',
    headers: [],
  });
  const batch = [rec(0, 1), rec(0, 2), rec(0, 3), rec(1, 10)];

  it('treats empty or missing failures as success', () => {
    for (const r of [undefined, null, 'ok', {}, { batchItemFailures: [] }, { batchItemFailures: null }])
      expect(readBatchItemFailures(r, batch)).toEqual({ kind: 'success' });
  });

  it('checkpoints each partition at its lowest reported offset', () => {
    const out = readBatchItemFailures(
      {
        batchItemFailures: [
          { itemIdentifier: { partition: 't-0', offset: 3 } },
          { itemIdentifier: { partition: 't-0', offset: 2 } },
          { itemIdentifier: 't-1-10' },
        ],
      },
      batch,
    );
    expect(out).toEqual({
      kind: 'partial',
      failedFrom: new Map([
        [0, 2],
        [1, 10],
      ]),
    });
  });

  it('fails the whole batch on identifiers that name no record', () => {
    for (const id of [{ partition: 't-0', offset: 99 }, '', null, { offset: 1 }, 't-2-1'])
      expect(readBatchItemFailures({ batchItemFailures: [{ itemIdentifier: id }] }, batch).kind).toBe('invalid');
    expect(readBatchItemFailures({ batchItemFailures: 'x' }, batch).kind).toBe('invalid');
  });
});

describe('dead letter', () => {
  it('matches the domain DeadLetterV1 schema', () => {
    const r = toMskRecord('t-tracks', 2, message(41, 'k', 'bad'));
    const letter = toDeadLetterV1(r, 'retries-exhausted', 'boom', 'catalog-updater', 1_700_000_000_000);
    expect(DeadLetterV1.parse(letter)).toEqual({
      reason: 'retries-exhausted',
      error: 'boom',
      sourceTopic: 't-tracks',
      partition: 2,
      offset: 41,
      key: Buffer.from('k').toString('base64'),
      value: Buffer.from('bad').toString('base64'),
      function: 'catalog-updater',
      failedAt: 1_700_000_000_000,
      v: 1,
    });
  });
});
