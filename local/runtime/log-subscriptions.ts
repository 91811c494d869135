/**
 * CloudWatch Logs subscriptions, locally: a function's output lines are read while it runs (an
 * invocation scope says whose line it is), the lines its subscriptions' filter patterns match are
 * taken out of the terminal and delivered to the subscribed function in the payload CloudWatch
 * Logs sends (`{ awslogs: { data } }`: gzipped, base64 JSON with logGroup, logStream,
 * subscriptionFilters and logEvents), batched a few hundred milliseconds at a time.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FunctionName, LogSubscriptionSpec } from '../../shared/topology.ts';
import { type LogLine, silentLog } from './log.ts';

/** Which function the code running now belongs to (set around each invocation). */
export const invocationScope = new AsyncLocalStorage<{ fn: FunctionName }>();

/** Takes a line of `fn`'s output, or returns false to leave it on the terminal. */
export type LineSink = (fn: FunctionName, line: string) => boolean;

let sink: LineSink | undefined;
let installed = false;

/** Routes the output lines written inside invocations through `next` (undefined: none). */
export function setLineSink(next: LineSink | undefined): void {
  sink = next;
  if (installed || !next) return;
  installed = true;
  const original = process.stdout.write.bind(process.stdout) as (...a: unknown[]) => boolean;
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const scope = invocationScope.getStore();
    if (!scope || !sink || (typeof chunk !== 'string' && !Buffer.isBuffer(chunk))) return original(chunk, ...rest);
    const take = sink;
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const left = text.split('\n').filter((line) => line !== '' && !take(scope.fn, line));
    const done = rest.find((r): r is () => void => typeof r === 'function');
    if (left.length === 0) {
      if (done) queueMicrotask(done);
      return true;
    }
    return original(`${left.join('\n')}\n`, ...rest);
  }) as typeof process.stdout.write;
}

/**
 * CloudWatch Logs' JSON filter pattern for the one form the topology uses, `{ $.a.b = value }`
 * (value: a number, a "string" or *). Anything else is a configuration error, not a silent miss.
 */
export function filterPatternMatcher(pattern: string): (line: string) => boolean {
  const m = /^\{\s*\$\.([A-Za-z0-9_.]+)\s*=\s*(.+?)\s*\}$/.exec(pattern.trim());
  if (!m) throw new Error(`unsupported filter pattern ${JSON.stringify(pattern)} (only { $.path = value })`);
  const path = m[1]!.split('.');
  const raw = m[2]!;
  const wanted: unknown = raw === '*' ? '*' : raw.startsWith('"') ? JSON.parse(raw) : Number(raw);
  return (line) => {
    if (!line.startsWith('{')) return false;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return false;
    }
    for (const key of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
    return wanted === '*' ? v !== undefined : v === wanted;
  };
}

export interface SubscriptionDeliveryOptions {
  spec: LogSubscriptionSpec;
  invoke: (fn: FunctionName, event: unknown) => Promise<unknown>;
  /** How long lines gather before a delivery (CloudWatch delivers within seconds; tests want less). */
  flushMs?: number;
  maxLines?: number;
  log?: LogLine;
}

/** One subscription's deliveries: lines in, invocations of the subscribed function out, in order. */
export class SubscriptionDelivery {
  private lines: { id: string; timestamp: number; message: string }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly logStream = `local/${randomUUID()}`;
  readonly matches: (line: string) => boolean;
  delivered = 0;
  failed = 0;
  /** Bytes of the lines taken (what CloudWatch Logs would ingest, before its 26 bytes per event). */
  bytes = 0;
  deliveries = 0;
  /** Wall time of the successful deliveries' invocations (the subscribed function's duration). */
  invokeMs = 0;

  readonly spec: LogSubscriptionSpec;

  constructor(private readonly o: SubscriptionDeliveryOptions) {
    this.spec = o.spec;
    this.matches = filterPatternMatcher(o.spec.filterPattern);
  }

  push(message: string): void {
    this.bytes += Buffer.byteLength(message) + 1;
    this.lines.push({ id: `${Date.now()}${this.lines.length}`, timestamp: Date.now(), message });
    if (this.lines.length >= (this.o.maxLines ?? 500)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.flushMs ?? 200);
  }

  /** Lines not yet delivered (buffered or in a delivery). */
  pending(): number {
    return this.lines.length + this.inFlight;
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.lines;
    if (batch.length === 0) return;
    this.lines = [];
    this.inFlight += batch.length;
    this.chain = this.chain
      .then(() => this.deliver(batch))
      .finally(() => {
        this.inFlight -= batch.length;
      });
  }

  /** Delivers what is buffered and waits for every delivery. */
  async drain(): Promise<void> {
    this.flush();
    await this.chain;
  }

  private async deliver(batch: { id: string; timestamp: number; message: string }[]): Promise<void> {
    const { from, to } = this.o.spec;
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: '000000000000',
      logGroup: `/aws/lambda/${from}`,
      logStream: this.logStream,
      subscriptionFilters: [`${from}-to-${to}`],
      logEvents: batch,
    };
    const event = { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
    // An asynchronous invoke: Lambda retries a failed one twice.
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const t0 = performance.now();
        await this.o.invoke(to, event);
        this.invokeMs += performance.now() - t0;
        this.delivered += batch.length;
        this.deliveries++;
        return;
      } catch (err) {
        (this.o.log ?? silentLog)(`log subscription ${from} → ${to}: delivery failed (${(err as Error).message})`);
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
    this.failed += batch.length;
  }
}
