/**
 * The dashboard-stats function in the local runtime: the same function as in the cloud
 * (functions/dashboard-stats/dashboard.ts) over local sources — the runtime's own Kafka consumer
 * for the stream and the genre mix (feed.ts), its counters and the emulated event source
 * mappings for the health (lag per trigger and partition, failures, dead letters) — and the
 * cloud's experiments source as it is, over the attribution counters on DynamoDB Local.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Kafka } from 'kafkajs';
import { countersSource } from '../../functions/dashboard-stats/counters-source.ts';
import {
  type DashboardSources,
  dashboardStatsHandler,
  type ExperimentsSource,
} from '../../functions/dashboard-stats/dashboard.ts';
import type { TriggerHealth } from '../../functions/dashboard-stats/types.ts';
import type { ExperimentsStore } from '../../shared/adapters/dynamodb/experiments.ts';
import { createStores } from '../../shared/adapters/dynamodb/stores.ts';
import type { FunctionName, ResolvedTopology } from '../../shared/topology.ts';
import { type InvokeOptions, invokeHandler, type LambdaHandler } from '../runtime/functions.ts';
import type { ExtraRoute } from '../runtime/http-api.ts';
import type { EventSourceMapping } from '../runtime/kafka-esm.ts';
import type { LogLine } from '../runtime/log.ts';
import { consumeIntoFeed, DashboardFeed, RATE_WINDOW_S } from './feed.ts';
import { dashboardSiteRoutes } from './site.ts';

export interface TriggerMapping {
  function: FunctionName;
  topic: string;
  mapping: EventSourceMapping;
}

/** The function's sources: the feed, the runtime's event source mappings and the counters. */
export function localSources(
  feed: DashboardFeed,
  triggers: readonly TriggerMapping[],
  experiments: ExperimentsSource,
): DashboardSources {
  return {
    experiments,
    metrics: {
      health: async (now) => {
        const rateSeries = feed.rateSeries(now);
        const perSecond = rateSeries.reduce((a, b) => a + b, 0) / RATE_WINDOW_S;
        return {
          totalEvents: feed.total,
          eventsPerSecond: Math.round(perSecond * 100) / 100,
          rateSeries,
          triggers: await Promise.all(triggers.map((t) => triggerHealth(t, feed))),
          deadLetters: feed.deadLetters,
          errors: feed.errors,
        };
      },
    },
    stream: {
      recent: async () => feed.ring,
      receivedSince: async (from, now) => {
        feed.prune(now);
        return feed.window.filter((e) => e.receivedAt >= from);
      },
      facets: async () => ({ platforms: [...feed.platforms].sort(), countries: [...feed.countries].sort() }),
    },
  };
}

async function triggerHealth(t: TriggerMapping, feed: DashboardFeed): Promise<TriggerHealth> {
  const s = t.mapping.stats();
  let lag: Record<number, number>;
  try {
    lag = await t.mapping.lag();
  } catch (err) {
    // The broker's answer is exact; the mapping's own view is the fallback when it is unreachable.
    feed.noteError(t.function, `lag query failed: ${(err as Error).message}`);
    lag = s.lagByPartition;
  }
  return {
    function: t.function,
    topic: t.topic,
    groupId: t.mapping.groupId,
    lag,
    totalLag: Object.values(lag).reduce((a, b) => a + b, 0),
    batches: s.batches,
    records: s.records,
    failures: s.failures,
    deadLettered: s.deadLettered,
    inFlight: s.inFlight,
  };
}

export interface LocalDashboardOptions {
  kafka: Kafka;
  topology: ResolvedTopology;
  dynamodbEndpoint: string;
  region?: string;
  /** The pipeline's event source mappings, for lag and failure counts. */
  triggers: readonly TriggerMapping[];
  log?: LogLine;
}

export interface LocalDashboard {
  /** Runs dashboard-stats over the local sources, like the runtime invokes any function. */
  invoke(event: APIGatewayProxyEventV2, opts?: InvokeOptions): Promise<unknown>;
  /** The page: `/` and `/assets/*` from the dashboard build. */
  siteRoutes: ExtraRoute[];
  stop(): Promise<void>;
}

export async function startLocalDashboard(opts: LocalDashboardOptions): Promise<LocalDashboard> {
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const stores = createStores({ endpoint: opts.dynamodbEndpoint, region }, opts.topology.tableNames);
  const feed = new DashboardFeed(stores);
  const consumer = await consumeIntoFeed(feed, opts.kafka, opts.topology, opts.log).catch((err: unknown) => {
    stores.client.destroy();
    throw err;
  });
  const counters: ExperimentsStore = {
    client: stores.client,
    servedTable: opts.topology.tableNames.servedLists,
    countersTable: opts.topology.tableNames.experimentCounters,
    counter: stores.counter,
  };
  // No cache: DynamoDB Local bills nothing, and a local run wants the counts it just made.
  const experiments = countersSource(() => counters, 0);
  const handler = dashboardStatsHandler(localSources(feed, opts.triggers, experiments)) as unknown as LambdaHandler;
  return {
    invoke: (event, invokeOpts) => invokeHandler(handler, 'dashboard-stats', event, invokeOpts),
    siteRoutes: dashboardSiteRoutes(),
    stop: async () => {
      await consumer.disconnect().catch(() => undefined);
      stores.client.destroy();
    },
  };
}
