/**
 * One warm "container" of a function in a worker thread (see function-pool.ts): imports the
 * handler once, then runs each invocation the main thread posts through the same `invokeFunction`
 * as the in-process path (context, timeout, START/END/REPORT lines). Loaded by
 * function-worker-boot.mjs, which registers the TypeScript loader first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type FunctionName, logSubscriptions } from '../../shared/topology.ts';
import { invokeFunction, loadHandler } from './functions.ts';
import { filterPatternMatcher, setLineSink } from './log-subscriptions.ts';

export interface WorkerInit {
  name: FunctionName;
}

/** DynamoDB request counts since the last report (the main thread adds them to its own counter). */
export interface CounterDelta {
  reads: number;
  writes: number;
  readUnits: number;
  writeUnits: number;
  itemsRead: number;
}

export type ToWorker = { type: 'invoke'; id: number; event: unknown; log: boolean } | { type: 'shutdown' };

export type FromWorker =
  | { type: 'log'; id: number; line: string }
  | { type: 'subscribed-line'; line: string }
  | {
      type: 'result';
      id: number;
      ok: boolean;
      value?: unknown;
      error?: { name: string; message: string; stack?: string };
      counters?: CounterDelta;
    }
  | { type: 'shutdown-done' };

const port = parentPort;
if (!port) throw new Error('function-worker.ts runs in a worker thread only');
const { name } = workerData as WorkerInit;

// Lines of this function's output its log subscriptions match go to the main thread, which
// delivers them (runtime/log-subscriptions.ts).
const matchers = logSubscriptions.filter((s) => s.from === name).map((s) => filterPatternMatcher(s.filterPattern));
if (matchers.length > 0)
  setLineSink((_fn, line) => {
    if (!matchers.some((m) => m(line))) return false;
    post({ type: 'subscribed-line', line });
    return true;
  });

// Warm start: import the handler (and its clients) before the first invocation. A failed import is
// retried by the next invocation, as in-process.
void loadHandler(name).catch(() => {});

type Counter = CounterDelta & { reset(): void };
const adapters = import('../../shared/adapters/dynamodb/stores.ts');
let counter: Counter | null | undefined;
const last: CounterDelta = { reads: 0, writes: 0, readUnits: 0, writeUnits: 0, itemsRead: 0 };

async function counterDelta(): Promise<CounterDelta | undefined> {
  if (counter === undefined) {
    try {
      counter = (await adapters).storesFromEnv().counter;
    } catch {
      counter = null; // no tables in this env: nothing to count
    }
  }
  if (counter === null) return undefined;
  const d = {} as CounterDelta;
  let any = false;
  for (const k of Object.keys(last) as (keyof CounterDelta)[]) {
    d[k] = counter[k] - last[k];
    last[k] = counter[k];
    if (d[k] !== 0) any = true;
  }
  return any ? d : undefined;
}

function serializeError(err: unknown): { name: string; message: string; stack?: string } {
  if (err instanceof Error) return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
  return { name: 'Error', message: typeof err === 'string' ? err : JSON.stringify(err) };
}

const post = (msg: FromWorker) => port.postMessage(msg);

port.on('message', (msg: ToWorker) => {
  if (msg.type === 'shutdown') {
    void shutdown();
    return;
  }
  const { id } = msg;
  const log = msg.log ? (line: string) => post({ type: 'log', id, line }) : undefined;
  invokeFunction(name, msg.event, { log }).then(
    async (value) => {
      const counters = await counterDelta();
      try {
        post({ type: 'result', id, ok: true, value, ...(counters ? { counters } : {}) });
      } catch (err) {
        // A result the structured clone cannot carry (a function, a symbol…): Lambda could not
        // serialize it either.
        post({ type: 'result', id, ok: false, error: serializeError(err) });
      }
    },
    async (err: unknown) => {
      const counters = await counterDelta();
      post({ type: 'result', id, ok: false, error: serializeError(err), ...(counters ? { counters } : {}) });
    },
  );
});

/** Close what a handler may have opened (Kafka producer, DynamoDB sockets), then report. */
async function shutdown(): Promise<void> {
  try {
    const { disconnectProducer } = await import('../../shared/adapters/kafka.ts');
    await disconnectProducer();
  } catch {
    // best effort: the thread is terminated next anyway
  }
  try {
    (await adapters).storesFromEnv().client.destroy();
  } catch {
    // no stores in this env
  }
  post({ type: 'shutdown-done' });
}
