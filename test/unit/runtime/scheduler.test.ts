import { describe, expect, it } from 'vitest';
import { scheduledEvent, startSchedules } from '../../../local/runtime/scheduler.ts';

describe('local schedules', () => {
  it('sends the event an EventBridge rate rule sends', () => {
    const e = scheduledEvent('item-model-builder', new Date('2026-11-22T10:00:00.123Z'), 'eu-west-1');
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-11-22T10:00:00Z',
      region: 'eu-west-1',
      resources: ['arn:aws:events:eu-west-1:000000000000:rule/item-model-builder-schedule'],
      detail: {},
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never overlaps a run with itself and keeps ticking after a failure', async () => {
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const s = startSchedules({
      schedules: [{ function: 'item-model-builder', everyMinutes: 60, localEverySeconds: 1, description: '' }],
      everySeconds: 0.01,
      invoke: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 50));
        running--;
        if (calls === 1) throw new Error('first build fails');
        return calls;
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    await s.stop();
    expect(maxRunning).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(3); // ~300 ms / 50 ms runs, ticks skipped while one runs
    expect(calls).toBeLessThanOrEqual(7);
  });

  it('runNow waits for a run in progress, then runs; 0 disables the timer', async () => {
    const order: string[] = [];
    const s = startSchedules({
      schedules: [{ function: 'item-model-builder', everyMinutes: 60, localEverySeconds: 1, description: '' }],
      everySeconds: 0,
      invoke: async () => {
        order.push('start');
        await new Promise((r) => setTimeout(r, 20));
        order.push('end');
        return order.length;
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual([]);
    const [a, b] = await Promise.all([s.runNow('item-model-builder'), s.runNow('item-model-builder')]);
    expect(order).toEqual(['start', 'end', 'start', 'end']);
    expect([a, b]).toEqual([2, 4]);
    await s.stop();
  });
});
