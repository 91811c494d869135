/**
 * The topology's schedules, locally: each scheduled function is invoked every `localEverySeconds`
 * with the event an EventBridge rate rule delivers ("Scheduled Event"). A tick while the previous
 * run is still going is skipped, as a build must not race itself; a failed run is logged and the
 * next tick tries again (the cloud rule retries twice, then waits for the next period).
 */
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import type { FunctionName, ScheduleSpec } from '../../shared/topology.ts';
import { type LogLine, silentLog } from './log.ts';

/** The event EventBridge sends for a rate rule (the account and rule are the local stand-ins). */
export function scheduledEvent(
  fn: FunctionName,
  at = new Date(),
  region = process.env.AWS_REGION ?? 'us-east-1',
): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: `${at.toISOString().slice(0, 19)}Z`,
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${fn}-schedule`],
    detail: {},
  };
}

export interface Schedules {
  /** Runs a scheduled function now (waits for a run in progress first, then starts a fresh one). */
  runNow(fn: FunctionName): Promise<unknown>;
  stop(): Promise<void>;
}

export function startSchedules(opts: {
  schedules: readonly ScheduleSpec[];
  invoke: (fn: FunctionName, event: ScheduledEvent) => Promise<unknown>;
  /** Overrides every schedule's local period; 0 disables the timers (runNow still works). */
  everySeconds?: number;
  log?: LogLine;
}): Schedules {
  const log = opts.log ?? silentLog;
  const running = new Map<FunctionName, Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];

  const run = (fn: FunctionName): Promise<unknown> => {
    const started = Date.now();
    const p = opts.invoke(fn, scheduledEvent(fn)).then(
      (result) => {
        log(`[schedule] ${fn} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return result;
      },
      (err: unknown) => {
        log(`[schedule] ${fn} failed: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      },
    );
    const settled = p.catch(() => {});
    running.set(fn, settled);
    void settled.then(() => running.get(fn) === settled && running.delete(fn));
    return p;
  };

  for (const s of opts.schedules) {
    const seconds = opts.everySeconds ?? s.localEverySeconds;
    if (!(seconds > 0)) continue;
    const timer = setInterval(() => {
      if (!running.has(s.function)) void run(s.function).catch(() => {});
    }, seconds * 1000);
    timer.unref();
    timers.push(timer);
  }

  return {
    async runNow(fn) {
      // Re-checked after each wait: concurrent callers run one after another, never together.
      while (running.has(fn)) await running.get(fn);
      return run(fn);
    },
    async stop() {
      for (const t of timers) clearInterval(t);
      // A run in progress gets a few seconds to finish its writes; the next start rebuilds anyway.
      await Promise.race([Promise.allSettled([...running.values()]), new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
