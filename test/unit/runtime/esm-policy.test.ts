/** The event source mapping's decisions: dispatch, batch planning, pausing, commits, lag, retries and bisecting. */
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  estimatedLag,
  failedFrom,
  failuresOfLane,
  INFINITE_RETRY_CAP,
  lagFromOffsets,
  nextDispatch,
  offsetToCommit,
  planBatch,
  refetchFloor,
  retryPolicy,
  retryStep,
  shouldPause,
  shouldResume,
  tooOld,
} from '../../../local/runtime/esm-policy.ts';

const T = 1_800_000_000_000;
const queued = (n: number, arrivedAt = T) => Array.from({ length: n }, () => ({ arrivedAt }));
const lane = (partition: number, n: number, over: { busy?: boolean; paused?: boolean; arrivedAt?: number } = {}) => ({
  partition,
  busy: over.busy ?? false,
  paused: over.paused ?? false,
  queue: queued(n, over.arrivedAt),
});
const limits = { batchSize: 10, windowMs: 500, maxPayloadBytes: 1000 };

describe('nextDispatch', () => {
  it('is idle without records in idle lanes', () => {
    expect(nextDispatch([], T, limits)).toEqual({ kind: 'idle' });
    expect(nextDispatch([lane(0, 5, { busy: true }), lane(1, 0)], T, limits)).toEqual({ kind: 'idle' });
  });

  it('waits out the window from the oldest record while the batch is not full', () => {
    const lanes = [lane(0, 3, { arrivedAt: T - 200 }), lane(1, 2, { arrivedAt: T - 100 })];
    expect(nextDispatch(lanes, T, limits)).toEqual({ kind: 'wait', ms: 300 });
  });

  it('invokes with the idle lanes in partition order once the batch is full or the window closed', () => {
    const [a, b, busy] = [lane(2, 6), lane(0, 4), lane(1, 9, { busy: true })];
    expect(nextDispatch([a, b, busy], T, limits)).toEqual({ kind: 'invoke', ready: [b, a] });
    expect(nextDispatch([a], T + 500, limits)).toEqual({ kind: 'invoke', ready: [a] });
  });
});

describe('planBatch', () => {
  const sized = (...sizes: number[]) => ({ queue: sizes });
  const size = (s: number) => s;

  it('takes the oldest records lane after lane up to the batch size', () => {
    expect(planBatch([sized(1, 1, 1), sized(1, 1)], size, { ...limits, batchSize: 4 })).toEqual([
      { count: 3, complete: true },
      { count: 1, complete: true },
    ]);
    expect(planBatch([sized(1, 1), sized(1)], size, limits)).toEqual([
      { count: 2, complete: true },
      { count: 1, complete: true },
    ]);
  });

  it('stops at the payload cap, in the middle of a lane, but sends an oversized first record alone', () => {
    expect(planBatch([sized(400, 400), sized(100, 300)], size, limits)).toEqual([
      { count: 2, complete: true },
      { count: 1, complete: false },
    ]);
    expect(planBatch([sized(5000, 1)], size, limits)).toEqual([{ count: 1, complete: false }]);
    expect(planBatch([sized(600), sized(600)], size, limits)).toEqual([
      { count: 1, complete: true },
      { count: 0, complete: false },
    ]);
  });
});

describe('lanes', () => {
  it('pause fetching at the buffer limit and resume at half of it', () => {
    expect(shouldPause(lane(0, 99), 100)).toBe(false);
    expect(shouldPause(lane(0, 100), 100)).toBe(true);
    expect(shouldPause(lane(0, 100, { paused: true }), 100)).toBe(false);
    expect(shouldResume(lane(0, 50, { paused: true }), 100)).toBe(false);
    expect(shouldResume(lane(0, 49, { paused: true }), 100)).toBe(true);
    expect(shouldResume(lane(0, 0), 100)).toBe(false);
  });

  it('after a rejoin skip what is in flight, else what is committed', () => {
    expect(refetchFloor({ inFlightTo: 41, committed: 30 })).toBe(41);
    expect(refetchFloor({ committed: 30 })).toBe(29);
    expect(refetchFloor({})).toBe(-1);
  });

  it('commit after the settled run from the batch start, never backwards', () => {
    const batch = (...done: boolean[]) => done.map((d, i) => ({ done: d, record: { offset: 10 + i } }));
    expect(offsetToCommit(batch(true, true, false, true), undefined)).toBe(12);
    expect(offsetToCommit(batch(false, true), undefined)).toBeUndefined();
    expect(offsetToCommit(batch(true, true), 12)).toBeUndefined();
    expect(offsetToCommit(batch(true, true), 11)).toBe(12);
  });

  it('estimate lag from the committed offset or where consuming starts', () => {
    expect(estimatedLag({ committed: 7, highWatermark: 10 }, 'LATEST')).toBe(3);
    expect(estimatedLag({ highWatermark: 10, low: 4 }, 'TRIM_HORIZON')).toBe(6);
    expect(estimatedLag({ highWatermark: 10 }, 'LATEST')).toBe(0);
    expect(estimatedLag({ committed: 12, highWatermark: 10 }, 'LATEST')).toBe(0);
    expect(estimatedLag({}, 'LATEST')).toBeUndefined();
  });

  it('measure lag exactly from the broker offsets (-1: nothing committed)', () => {
    const ends = [
      { partition: 0, high: '10', low: '2' },
      { partition: 1, high: '5', low: '0' },
      { partition: 2, high: '8', low: '8' },
    ];
    expect(
      lagFromOffsets(ends, [
        { partition: 0, offset: '7' },
        { partition: 1, offset: '-1' },
      ]),
    ).toEqual({
      0: 3,
      1: 5,
      2: 0,
    });
  });
});

describe('retries', () => {
  const trigger = { retryAttempts: 3, maxRecordAgeSeconds: 60, bisectBatchOnError: true };

  it('apply the trigger as Lambda does: infinite retries capped, infinite age unbounded', () => {
    expect(retryPolicy(trigger)).toEqual({
      maxRetries: 3,
      maxAgeMs: 60_000,
      bisect: true,
      backoffInitialMs: 1000,
      backoffMaxMs: 30_000,
    });
    const infinite = retryPolicy({ ...trigger, retryAttempts: -1, maxRecordAgeSeconds: -1 }, { initialMs: 5 });
    expect(infinite.maxRetries).toBe(INFINITE_RETRY_CAP);
    expect(infinite.maxAgeMs).toBe(Number.POSITIVE_INFINITY);
    expect(infinite.backoffInitialMs).toBe(5);
  });

  it('back off exponentially, capped', () => {
    const policy = retryPolicy(trigger, { initialMs: 100, maxMs: 1000 });
    expect([0, 1, 2, 3, 4, 10].map((n) => backoffMs(policy, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('retry a shrunk partial response at once, bisect the rest, then use up retries and dead-letter', () => {
    const policy = retryPolicy(trigger, { initialMs: 100 });
    expect(retryStep({ count: 4, shrunk: true }, 3, policy)).toEqual({ kind: 'retry-now' });
    expect(retryStep({ count: 5, shrunk: false }, 3, policy)).toEqual({ kind: 'bisect', at: 3 });
    expect(retryStep({ count: 1, shrunk: false }, 1, policy)).toEqual({ kind: 'retry-after', delayMs: 200 });
    expect(retryStep({ count: 1, shrunk: false }, 3, policy)).toEqual({ kind: 'dead-letter' });
    const noBisect = { ...policy, bisect: false };
    expect(retryStep({ count: 5, shrunk: true }, 0, noBisect)).toEqual({ kind: 'retry-after', delayMs: 100 });
    expect(retryStep({ count: 5, shrunk: true }, 3, noBisect)).toEqual({ kind: 'dead-letter' });
  });

  it('find records too old to retry and the ones a partial response reports as failed', () => {
    const rec = (partition: number, offset: number, timestamp = T) => ({ record: { partition, offset, timestamp } });
    const records = [rec(0, 5, T - 70_000), rec(0, 6), rec(1, 3), rec(1, 4), rec(2, 9)];
    expect(tooOld(records, T, 60_000)).toEqual([records[0]]);
    expect(tooOld(records, T, Number.POSITIVE_INFINITY)).toEqual([]);
    expect(
      failedFrom(
        records,
        new Map([
          [0, 6],
          [1, 3],
        ]),
      ),
    ).toEqual([records[1], records[2], records[3]]);
  });

  it("split a batch's failure per partition; only a partition that was cut down counts as shrunk", () => {
    const [a1, a2, b1, b2] = ['a1', 'a2', 'b1', 'b2'];
    const failure = { failed: [a2, b1, b2], shrunk: true };
    expect(failuresOfLane(failure, [a1, a2])).toEqual({ failed: [a2], shrunk: true });
    expect(failuresOfLane(failure, [b1, b2])).toEqual({ failed: [b1, b2], shrunk: false });
    expect(failuresOfLane({ failed: [a1, a2], shrunk: false }, [a1, a2])).toEqual({ failed: [a1, a2], shrunk: false });
    expect(failuresOfLane(null, [a1])).toEqual({ failed: [], shrunk: false });
  });
});
