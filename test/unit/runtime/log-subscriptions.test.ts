import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { filterPatternMatcher, SubscriptionDelivery } from '../../../local/runtime/log-subscriptions.ts';
import { logSubscriptions } from '../../../shared/topology.ts';

describe('log subscriptions, locally', () => {
  it("the topology's filter pattern matches served-list lines only", () => {
    const m = filterPatternMatcher(logSubscriptions[0]!.filterPattern);
    expect(m('{"served":{"v":1,"id":"x"}}')).toBe(true);
    expect(m('{"served":{"v":2}}')).toBe(false);
    expect(m('{"level":"INFO","message":"batch done"}')).toBe(false);
    expect(m('START RequestId: 1')).toBe(false);
    expect(m('{not json')).toBe(false);
    expect(filterPatternMatcher('{ $.a.b = "x" }')('{"a":{"b":"x"}}')).toBe(true);
    expect(filterPatternMatcher('{ $.a = * }')('{"a":0}')).toBe(true);
    expect(() => filterPatternMatcher('ERROR')).toThrow(/unsupported filter pattern/);
  });

  it("delivers lines in CloudWatch Logs' payload, retrying a failed delivery", async () => {
    const got: unknown[] = [];
    let failures = 1;
    const d = new SubscriptionDelivery({
      spec: logSubscriptions[0]!,
      flushMs: 5,
      invoke: async (fn, event) => {
        if (failures-- > 0) throw new Error('busy');
        got.push({
          fn,
          data: JSON.parse(
            gunzipSync(Buffer.from((event as { awslogs: { data: string } }).awslogs.data, 'base64')).toString(),
          ),
        });
      },
    });
    d.push('{"served":{"v":1}}');
    d.push('{"served":{"v":1,"n":2}}');
    await d.drain();
    expect(d.pending()).toBe(0);
    expect(got).toHaveLength(1);
    const { fn, data } = got[0] as { fn: string; data: Record<string, unknown> };
    expect(fn).toBe('served-list-recorder');
    expect(data.messageType).toBe('DATA_MESSAGE');
    expect(data.logGroup).toBe('/aws/lambda/read-api');
    expect((data.logEvents as { message: string }[]).map((e) => e.message)).toEqual([
      '{"served":{"v":1}}',
      '{"served":{"v":1,"n":2}}',
    ]);
    expect(d.delivered).toBe(2);
  });
});
