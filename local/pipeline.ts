/**
 * The whole local pipeline on given infrastructure: every trigger as an emulated Kafka event source
 * mapping feeding its handler, and the HTTP API serving the topology's routes. `npm start` and
 * the end-to-end tests compose it the same way.
 */
import type { APIGatewayProxyEventV2, MSKEvent } from 'aws-lambda';
import { storesFromEnv } from '../shared/adapters/dynamodb/stores.ts';
import { disconnectProducer } from '../shared/adapters/kafka.ts';
import { createKafka } from '../shared/adapters/kafka-client.ts';
import {
  dashboardRoutes,
  type FunctionName,
  logSubscriptions,
  type ResolvedTopology,
  resolveSettings,
  routes,
  schedules,
  triggers,
} from '../shared/topology.ts';
import { type LocalDashboard, startLocalDashboard } from './dashboard/sources.ts';
import { type CounterDelta, type FunctionPool, poolSizeFromEnv, startFunctionPool } from './runtime/function-pool.ts';
import { applyFunctionEnv, functionEnv, invokeFunction, loadHandler } from './runtime/functions.ts';
import { type ExtraRoute, startHttpApi } from './runtime/http-api.ts';
import { type EventSourceMapping, startEventSourceMapping } from './runtime/kafka-esm.ts';
import type { LogLine } from './runtime/log.ts';
import { SubscriptionDelivery, setLineSink } from './runtime/log-subscriptions.ts';
import { type Schedules, startSchedules } from './runtime/scheduler.ts';

export interface LocalPipelineOptions {
  topology: ResolvedTopology;
  kafkaBrokers: string[];
  dynamodbEndpoint: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  host?: string;
  authToken?: string;
  extraRoutes?: readonly ExtraRoute[];
  /**
   * Serve the dashboard build at / and its authenticated /api/stream, /api/stats and
   * /api/experiments (the dashboard-stats function over the runtime's own sources, local/dashboard/).
   */
  dashboard?: boolean;
  /** Override batching windows (tests use short ones). */
  batchingWindowMs?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Worker threads per HTTP function (warm containers serving invocations in parallel, see
   * runtime/function-pool.ts); 0 invokes the handlers in this process. Default: LOCAL_HTTP_WORKERS,
   * else the cores beyond two (at most 4; none on a 2-core machine).
   */
  httpWorkers?: number;
  /**
   * Seconds between runs of every scheduled function (the item model build); default each
   * schedule's `localEverySeconds`, env LOCAL_SCHEDULE_SECONDS; 0 turns the timers off (benchmarks,
   * tests that run them on demand through `schedules.runNow`).
   */
  scheduleEverySeconds?: number;
  /** Seconds the user-token authorizer's answers are cached (default USER_TOKEN_CACHE_SECONDS). */
  userTokenCacheSeconds?: number;
  /** Extra env for the handlers (e.g. settings overrides). */
  env?: Record<string, string>;
  log?: LogLine;
  /** Invocation START/END/REPORT lines. */
  invocationLog?: LogLine;
}

export interface LocalPipeline {
  url: string;
  mappings: EventSourceMapping[];
  /** The log subscriptions' deliveries (served lists: read-api → served-list-recorder). */
  subscriptions: SubscriptionDelivery[];
  schedules: Schedules;
  stop(): Promise<void>;
}

export async function startLocalPipeline(opts: LocalPipelineOptions): Promise<LocalPipeline> {
  applyFunctionEnv({
    ...functionEnv({
      topology: opts.topology,
      kafkaBrokers: opts.kafkaBrokers,
      dynamodbEndpoint: opts.dynamodbEndpoint,
    }),
    POWERTOOLS_SERVICE_NAME: process.env.POWERTOOLS_SERVICE_NAME ?? 'tunestream',
    POWERTOOLS_METRICS_NAMESPACE: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'tunestream',
    // Locally the metrics' EMF lines would only flood the terminal; logs stay on at WARN.
    POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    ...opts.env,
  });
  const kafka = createKafka({ brokers: opts.kafkaBrokers, auth: 'none', clientId: 'tunestream-local-esm' });
  const mappings: EventSourceMapping[] = [];
  let dashboard: LocalDashboard | undefined;
  const pools = new Map<FunctionName, FunctionPool>();
  const envSeconds = process.env.LOCAL_SCHEDULE_SECONDS;
  if (envSeconds && !(Number(envSeconds) >= 0))
    throw new Error(`LOCAL_SCHEDULE_SECONDS=${JSON.stringify(envSeconds)} must be a number of seconds (0 = off)`);
  const scheduled = startSchedules({
    schedules,
    invoke: (fn, event) => invokeFunction(fn, event, { log: opts.invocationLog }),
    ...(opts.scheduleEverySeconds !== undefined
      ? { everySeconds: opts.scheduleEverySeconds }
      : envSeconds
        ? { everySeconds: Number(envSeconds) }
        : {}),
    log: opts.log,
  });
  const { subscriptions, takeLine } = startLogSubscriptions(opts);
  const stopAll = async () => {
    await scheduled.stop();
    await stopLogSubscriptions(subscriptions);
    await Promise.allSettled([...pools.values()].map((p) => p.close()));
    await dashboard?.stop();
    await Promise.allSettled(mappings.map((m) => m.stop()));
    await disconnectProducer();
  };
  try {
    for (const trigger of triggers) {
      mappings.push(
        await startEventSourceMapping({
          kafka,
          trigger,
          topicName: opts.topology.topicNames[trigger.topic],
          groupId: `${opts.topology.prefix}${trigger.consumerGroupId}`,
          deadLetterTopic: opts.topology.topicNames.deadLetters,
          invoke: (event: MSKEvent) => invokeFunction(trigger.function, event, { log: opts.invocationLog }),
          bootstrapServers: opts.kafkaBrokers.join(','),
          log: opts.log,
          ...(opts.batchingWindowMs !== undefined ? { batchingWindowMs: opts.batchingWindowMs } : {}),
          ...(opts.backoff ? { backoff: opts.backoff } : {}),
        }),
      );
    }
    if (opts.dashboard) {
      dashboard = await startLocalDashboard({
        kafka,
        topology: opts.topology,
        dynamodbEndpoint: opts.dynamodbEndpoint,
        triggers: triggers.map((t, i) => ({
          function: t.function,
          topic: opts.topology.topicNames[t.topic],
          mapping: mappings[i]!,
        })),
        log: opts.log,
      });
    }
    const workers = opts.httpWorkers ?? poolSizeFromEnv();
    for (const fn of new Set(routes.map((r) => r.function))) {
      if (workers > 0)
        pools.set(
          fn,
          startFunctionPool({
            name: fn,
            size: workers,
            log: opts.log,
            onCounters: addToCounter,
            onSubscribedLine: (line) => takeLine(fn, line),
          }),
        );
      // Warm in-process too (the workers import theirs at start): the first request does not pay
      // for the import. A failed import is retried by the next invocation.
      else void loadHandler(fn).catch(() => {});
    }
    const local = dashboard;
    const api = await startHttpApi({
      routes: local ? [...routes, ...dashboardRoutes] : routes,
      invoke: (fn, event: APIGatewayProxyEventV2) =>
        local && fn === 'dashboard-stats'
          ? local.invoke(event, { log: opts.invocationLog })
          : (pools.get(fn)?.invoke(event, { log: opts.invocationLog }) ??
            invokeFunction(fn, event, { log: opts.invocationLog })),
      port: opts.port,
      host: opts.host ?? '127.0.0.1',
      authToken: opts.authToken,
      authorizeUserToken: userTokenAuthorizer(
        opts.userTokenCacheSeconds ?? resolveSettings(process.env).USER_TOKEN_CACHE_SECONDS,
        opts.invocationLog,
      ),
      extraRoutes: [...(opts.extraRoutes ?? []), ...(local?.siteRoutes ?? [])],
      log: opts.log,
    });
    return {
      url: api.url,
      mappings,
      subscriptions,
      schedules: scheduled,
      stop: async () => {
        await api.close();
        await stopAll();
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The topology's log subscriptions: output lines of a function delivered to another (runtime/log-subscriptions.ts). */
function startLogSubscriptions(opts: LocalPipelineOptions) {
  const subscriptions = logSubscriptions.map(
    (spec) =>
      new SubscriptionDelivery({
        spec,
        invoke: (fn, event) => invokeFunction(fn, event, { log: opts.invocationLog }),
        ...(opts.batchingWindowMs !== undefined ? { flushMs: Math.max(20, opts.batchingWindowMs) } : {}),
        log: opts.log,
      }),
  );
  const takeLine = (fn: FunctionName, line: string): boolean => {
    for (const d of subscriptions)
      if (d.spec.from === fn && d.matches(line)) {
        d.push(line);
        return true;
      }
    return false;
  };
  setLineSink(takeLine);
  return { subscriptions, takeLine };
}

async function stopLogSubscriptions(subscriptions: readonly SubscriptionDelivery[]): Promise<void> {
  await Promise.allSettled(subscriptions.map((d) => d.drain()));
  setLineSink(undefined);
}

/**
 * Waits until every given mapping has no lag on the broker, nothing buffered and nothing in flight,
 * `quietChecks` checks in a row (250 ms apart); logs the lag per mapping every 5 s.
 */
export async function waitUntilDrained(
  mappings: readonly EventSourceMapping[],
  opts: { timeoutMs: number; quietChecks?: number; log?: LogLine; label?: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const needed = opts.quietChecks ?? 1;
  let quiet = 0;
  let lastNote = Date.now();
  while (Date.now() < deadline) {
    const lags = await Promise.all(mappings.map((m) => m.lag()));
    const busy = mappings.some((m) => m.stats().inFlight > 0 || m.stats().buffered > 0);
    quiet = !busy && lags.every((l) => Object.values(l).every((x) => x === 0)) ? quiet + 1 : 0;
    if (quiet >= needed) return;
    if (Date.now() - lastNote > 5000) {
      lastNote = Date.now();
      const total = lags.map((l) => Object.values(l).reduce((a, b) => a + b, 0));
      opts.log?.(`${opts.label ?? 'pipeline'}: waiting to drain, lag per trigger ${total.join(' / ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${opts.label ?? 'pipeline'} did not drain`);
}

/**
 * API Gateway's Lambda request authorizer for the `user-token` routes: invokes `token-authorizer`
 * with a payload-2.0 authorizer event (identity source: the Authorization header) and caches its
 * answer per header value for `ttlSeconds`, as API Gateway does.
 */
function userTokenAuthorizer(ttlSeconds: number, log: LogLine | undefined) {
  const cache = new Map<string, { at: number; answer: { isAuthorized: boolean; context?: Record<string, unknown> } }>();
  return async (authorization: string) => {
    const hit = cache.get(authorization);
    if (hit && Date.now() - hit.at < ttlSeconds * 1000) return hit.answer;
    const answer = (await invokeFunction(
      'token-authorizer',
      { version: '2.0', type: 'REQUEST', identitySource: [authorization], headers: { authorization } },
      { log },
    )) as { isAuthorized: boolean; context?: Record<string, unknown> };
    if (cache.size > 10_000) cache.clear();
    if (ttlSeconds > 0) cache.set(authorization, { at: Date.now(), answer });
    return answer;
  };
}

/** Requests the workers made, added to this process's counter (what benchmarks and logs read). */
function addToCounter(d: CounterDelta): void {
  try {
    const c = storesFromEnv().counter;
    c.reads += d.reads;
    c.writes += d.writes;
    c.readUnits += d.readUnits;
    c.writeUnits += d.writeUnits;
    c.itemsRead += d.itemsRead;
  } catch {
    // no tables in this env: nothing to add to
  }
}
