import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  errorOf,
  fromWire,
  itemFromWire,
  itemToWire,
  toWire,
} from '../../../../shared/adapters/dynamodb/wire.ts';

describe('the DynamoDB wire client (pure parts)', () => {
  it('names errors as the SDK does and marks throttling and 5xx retryable', () => {
    expect(errorOf(200, '{}')).toBeUndefined();
    const throttled = errorOf(
      400,
      JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
        message: 'slow down',
      }),
    )!;
    expect(throttled.name).toBe('ProvisionedThroughputExceededException');
    expect(throttled.message).toBe('slow down');
    expect(throttled.retryable).toBe(true);
    const missing = errorOf(
      400,
      JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', Message: 'no table' }),
    )!;
    expect([missing.name, missing.message, missing.retryable]).toEqual([
      'ResourceNotFoundException',
      'no table',
      false,
    ]);
    const html = errorOf(503, '<html>unavailable</html>')!;
    expect([html.name, html.retryable, html.statusCode]).toEqual(['HTTP503', true, 503]);
  });

  it('backs off exponentially with jitter, capped at about a second', () => {
    expect(backoffMs(0, () => 0.5)).toBe(25);
    expect(backoffMs(3, () => 0.5)).toBe(200);
    expect(backoffMs(20, () => 0.99)).toBeLessThanOrEqual(1500);
    expect(backoffMs(2, () => 0)).toBe(50);
  });

  it('carries binary as base64 on the wire and back, nested too', () => {
    const bytes = new Uint8Array([0, 1, 254, 255, 7]);
    const item: Record<string, AttributeValue> = {
      userId: { S: 'u1' },
      version: { N: '42' },
      state: { B: bytes },
      nested: { M: { list: { L: [{ B: bytes.subarray(1, 3) }, { S: 'x' }] }, many: { BS: [bytes] } } },
    };
    const wire = itemToWire(item) as Record<string, Record<string, unknown>>;
    expect(wire.state).toEqual({ B: Buffer.from(bytes).toString('base64') });
    expect(toWire({ B: bytes.subarray(2, 4) })).toEqual({ B: Buffer.from([254, 255]).toString('base64') });
    // Through JSON, as on the wire.
    const back = itemFromWire(JSON.parse(JSON.stringify(wire)));
    expect(new Uint8Array(back.state!.B!)).toEqual(bytes);
    expect(back.version).toEqual({ N: '42' });
    const list = back.nested!.M!.list!.L!;
    expect(new Uint8Array(list[0]!.B!)).toEqual(new Uint8Array([1, 254]));
    expect(new Uint8Array(back.nested!.M!.many!.BS![0]!)).toEqual(bytes);
    expect(fromWire({ S: 'x' })).toEqual({ S: 'x' });
  });
});
