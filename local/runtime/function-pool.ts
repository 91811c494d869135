/**
 * Warm "containers" of one function as worker threads, so concurrent invocations run in parallel
 * the way Lambda runs them in separate execution environments, instead of sharing the local
 * runtime's event loop (and one core) with everything else. Each worker imports the handler once
 * (its module state — clients, per-container caches — is its own, as in a container) and runs
 * invocations through the same `invokeFunction` as the in-process path.
 *
 * Differences from Lambda, on purpose: the pool has a fixed size (all workers start at once, in the
 * background, like provisioned concurrency), and a worker takes several invocations at a time
 * (the least busy one is picked), since more threads than cores only add contention here.
 * A worker that dies (an uncaught error in the handler) fails its pending invocations and is
 * replaced at the next invocation, as a crashed container would be.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FunctionName } from '../../shared/topology.ts';
import type { CounterDelta, FromWorker, ToWorker, WorkerInit } from './function-worker.ts';
import { type InvokeOptions, LambdaTimeoutError } from './functions.ts';
import { type LogLine, silentLog } from './log.ts';

export type { CounterDelta };

/**
 * Worker threads per HTTP function by default: the cores left after two for Kafka and DynamoDB
 * Local (and this thread), at most 4; so none on a 2-core machine, where workers measured no better
 * than in-process (each isolate has its own JIT warm-up, clients and caches, and there is no idle
 * core to run them on; BENCHMARKS.md, api).
 */
export function defaultPoolSize(cores = availableParallelism()): number {
  return Math.max(0, Math.min(4, cores - 2));
}

/** `LOCAL_HTTP_WORKERS` (0 = run handlers in-process) or the default. */
export function poolSizeFromEnv(env: Record<string, string | undefined> = process.env): number {
  const raw = env.LOCAL_HTTP_WORKERS?.trim();
  if (raw === undefined || raw === '') return defaultPoolSize();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`LOCAL_HTTP_WORKERS must be 0–64, got ${raw}`);
  return n;
}

export interface FunctionPoolOptions {
  name: FunctionName;
  size: number;
  /** Pool lifecycle lines (a worker exited, …). */
  log?: LogLine;
  /** DynamoDB request counts made in the workers (benchmarks add them to this process's counter). */
  onCounters?: (delta: CounterDelta) => void;
  /** Output lines a log subscription takes (the workers match them; runtime/log-subscriptions.ts). */
  onSubscribedLine?: (line: string) => void;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  log?: LogLine;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  exited: boolean;
}

const BOOT = new URL('./function-worker-boot.mjs', import.meta.url);
const SHUTDOWN_GRACE_MS = 2000;

export interface FunctionPool {
  readonly name: FunctionName;
  readonly size: number;
  invoke(event: unknown, opts?: Pick<InvokeOptions, 'log'>): Promise<unknown>;
  /** Invocations in flight per live worker. */
  stats(): { workers: number; inFlight: number[] };
  close(): Promise<void>;
}

export function startFunctionPool(opts: FunctionPoolOptions): FunctionPool {
  if (!Number.isInteger(opts.size) || opts.size < 1) throw new Error(`pool size must be ≥ 1, got ${opts.size}`);
  const log = opts.log ?? silentLog;
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (): Slot => {
    const worker = new Worker(BOOT, {
      // Not the parent's flags: the boot file registers the TypeScript loader itself.
      execArgv: [],
      workerData: { name: opts.name } satisfies WorkerInit,
      name: `${opts.name}#${slots.length + 1}`,
    });
    worker.unref(); // never what keeps the process alive; the HTTP server and consumers do
    const slot: Slot = { worker, pending: new Map(), exited: false };
    worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'log') slot.pending.get(msg.id)?.log?.(msg.line);
      else if (msg.type === 'subscribed-line') opts.onSubscribedLine?.(msg.line);
      else if (msg.type === 'result') {
        if (msg.counters) opts.onCounters?.(msg.counters);
        const p = slot.pending.get(msg.id);
        if (!p) return;
        slot.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(reviveError(msg.error));
      }
    });
    const fail = (err: Error) => {
      if (slot.exited) return;
      slot.exited = true;
      const i = slots.indexOf(slot);
      if (i !== -1) slots.splice(i, 1);
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('error', (err) => {
      if (!closed) log(`[pool] ${opts.name} worker crashed: ${err.stack ?? err.message}`);
      fail(err);
    });
    worker.on('exit', (code) => fail(new Error(`${opts.name} worker exited (code ${code})`)));
    slots.push(slot);
    return slot;
  };

  for (let i = 0; i < opts.size; i++) spawn();

  return {
    name: opts.name,
    size: opts.size,
    invoke(event, invokeOpts = {}) {
      if (closed) return Promise.reject(new Error(`${opts.name} pool is closed`));
      while (slots.length < opts.size) spawn(); // replace crashed workers
      let slot = slots[0]!;
      for (const s of slots) if (s.pending.size < slot.pending.size) slot = s;
      const id = nextId++;
      return new Promise((resolve, reject) => {
        slot.pending.set(id, { resolve, reject, ...(invokeOpts.log ? { log: invokeOpts.log } : {}) });
        const msg: ToWorker = { type: 'invoke', id, event, log: invokeOpts.log !== undefined };
        try {
          slot.worker.postMessage(msg);
        } catch (err) {
          slot.pending.delete(id);
          reject(err as Error);
        }
      });
    },
    stats: () => ({ workers: slots.length, inFlight: slots.map((s) => s.pending.size) }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        slots.splice(0).map(async (slot) => {
          // Let the worker close its Kafka producer and sockets, then stop it whatever it is doing.
          const done = new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
            slot.worker.on('message', (m: FromWorker) => {
              if (m.type === 'shutdown-done') {
                clearTimeout(timer);
                resolve();
              }
            });
            slot.worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          });
          try {
            slot.worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
            await done;
          } catch {
            // already gone
          }
          for (const p of slot.pending.values()) p.reject(new Error(`${opts.name} pool closed`));
          slot.pending.clear();
          slot.exited = true;
          await slot.worker.terminate();
        }),
      );
    },
  };
}

function reviveError(e: { name: string; message: string; stack?: string } | undefined): Error {
  const err = e?.name === 'LambdaTimeoutError' ? new LambdaTimeoutError(e.message) : new Error(e?.message ?? 'failed');
  if (e && e.name !== err.name) err.name = e.name;
  if (e?.stack) err.stack = e.stack;
  return err;
}
