/**
 * The monthly bill at a steady load (pure; test/unit/bench/cost-model.test.ts): the idle part a
 * deployment pays whatever the traffic, the per-event part from the measured inputs (`npm run
 * bench -- cost`) under either DynamoDB capacity mode, recommendations served, the batch layer,
 * and Amazon Personalize and a self-hosted Gorse VM at the same traffic for comparison.
 *
 * Prices are us-east-1 list prices as of 2026-12, as docs/deploy.md cites them; none could be
 * checked against a bill here (no AWS account). Provisioned capacity is priced at auto scaling's
 * target utilization: a steady load, the case the issue asks about (a daily cycle lowers it).
 */
import { triggers } from '../shared/topology.ts';
import { type CostInputs, costPerMillionEvents, PRICES } from './lib.ts';

/** Idle event poller units: the mappings' minimum pollers, ~4 to an EPU. */
const IDLE_EPUS = Math.ceil(triggers.length / 4);

const HOURS = 730;
const DAYS = HOURS / 24;

/** Prices beyond `PRICES` (the per-event model's). */
export const BILL_PRICES = {
  ...PRICES,
  /** DynamoDB provisioned capacity, Standard table class (aws.amazon.com/dynamodb/pricing/provisioned/). */
  dynamoUsdPerWcuHour: 0.00065,
  dynamoUsdPerRcuHour: 0.00013,
  /**
   * Reserved capacity, 1-year term, per unit-hour with its upfront spread over the year: $150 and
   * $0.0128/h per 100 WCU, $30 and $0.0025/h per 100 RCU (same page).
   */
  dynamoReservedUsdPerWcuHour: (150 / 8760 + 0.0128) / 100,
  dynamoReservedUsdPerRcuHour: (30 / 8760 + 0.0025) / 100,
  /** HTTP API, first 300 M requests a month. */
  apiUsdPerMillionRequests: 1.0,
  mskServerlessUsdPerClusterHour: 0.75,
  mskServerlessUsdPerPartitionHour: 0.0015,
  mskServerlessUsdPerGbIn: 0.1,
  mskServerlessUsdPerGbOut: 0.05,
  mskM7gLargeUsdPerBrokerHour: 0.204,
  mskStorageUsdPerGbMonth: 0.1,
  /** Event poller unit: derived from issue #16's $533/month for 4 EPUs. */
  epuUsdPerHour: 0.1825,
  interfaceEndpointUsdPerAzHour: 0.01,
  alarmUsdPerMonth: 0.1,
  /** A custom metric (MSK's PER_BROKER level is billed so; DEFAULT is free). */
  cloudwatchMetricUsdPerMonth: 0.3,
  dashboardUsdPerMonth: 3,
  kmsKeyUsdPerMonth: 1,
  athenaUsdPerTb: 5,
  s3PutUsdPerThousand: 0.005,
  s3StorageUsdPerGbMonth: 0.023,
  /** Amazon Personalize (aws.amazon.com/personalize/pricing/): ingestion, training, real-time TPS-hours by tier. */
  personalizeUsdPerGbIngested: 0.05,
  personalizeUsdPerTrainingHour: 0.24,
  personalizeTpsHourTiers: [
    { upTo: 20_000, usd: 0.2 },
    { upTo: 200_000, usd: 0.1 },
    { upTo: Number.POSITIVE_INFINITY, usd: 0.05 },
  ],
  /** EC2 on-demand, Linux: r7g.large (2 vCPU, 16 GiB) and r7g.2xlarge (8 vCPU, 64 GiB); gp3 storage. */
  r7gLargeUsdPerHour: 0.1071,
  r7g2xlargeUsdPerHour: 0.4284,
  gp3UsdPerGbMonth: 0.08,
} as const;

/** `reserved`: provisioned, with the steady capacity bought as 1-year reserved capacity. */
export type CapacityMode = 'on-demand' | 'provisioned' | 'reserved';

export interface PerEvent {
  lambdaUsdPerMillion: number;
  dynamoUsdPerMillion: number;
  usdPerMillionEvents: number;
}

/**
 * Lambda + DynamoDB per million events. Provisioned: each unit-second bought at `utilization`
 * serves `utilization` units, so a million units cost 10⁶ / (3,600 · utilization) unit-hours.
 */
export function perEvent(inputs: CostInputs, capacity: CapacityMode, utilization = 0.7, p = BILL_PRICES): PerEvent {
  const base = costPerMillionEvents(inputs, p);
  const [wcu, rcu] =
    capacity === 'reserved'
      ? [p.dynamoReservedUsdPerWcuHour, p.dynamoReservedUsdPerRcuHour]
      : [p.dynamoUsdPerWcuHour, p.dynamoUsdPerRcuHour];
  const dynamo =
    capacity === 'on-demand'
      ? base.dynamoWriteUsdPerMillion + base.dynamoReadUsdPerMillion
      : ((inputs.writeUnitsPerEvent * wcu + inputs.readUnitsPerEvent * rcu) * 1e6) / (3600 * utilization);
  return {
    lambdaUsdPerMillion: base.lambdaUsdPerMillion,
    dynamoUsdPerMillion: dynamo,
    usdPerMillionEvents: base.lambdaUsdPerMillion + dynamo,
  };
}

export interface Deployment {
  label: string;
  msk: 'serverless' | 'provisioned';
  brokers: number;
  brokerStorageGiB: number;
  azs: number;
  partitions: number;
  alarms: number;
  /** MSK PER_BROKER monitoring: billed metrics per broker (~20; 0 at the DEFAULT level). */
  billedMetricsPerBroker: number;
  /** Provisioned capacity's minimums summed over tables and indexes (what an idle stack holds). */
  minWcu: number;
  minRcu: number;
}

export interface Line {
  item: string;
  usd: number;
}

/** What the deployment costs a month with no traffic. */
export function idleMonthly(d: Deployment, capacity: CapacityMode, p = BILL_PRICES): Line[] {
  const lines: Line[] =
    d.msk === 'serverless'
      ? [
          { item: 'MSK Serverless cluster-hours', usd: p.mskServerlessUsdPerClusterHour * HOURS },
          {
            item: `MSK Serverless partitions (${d.partitions})`,
            usd: d.partitions * p.mskServerlessUsdPerPartitionHour * HOURS,
          },
        ]
      : [
          { item: `MSK ${d.brokers} × kafka.m7g.large`, usd: d.brokers * p.mskM7gLargeUsdPerBrokerHour * HOURS },
          {
            item: `MSK storage ${d.brokers} × ${d.brokerStorageGiB} GiB`,
            usd: d.brokers * d.brokerStorageGiB * p.mskStorageUsdPerGbMonth,
          },
          {
            item: `MSK PER_BROKER metrics (~${d.billedMetricsPerBroker} per broker)`,
            usd: d.brokers * d.billedMetricsPerBroker * p.cloudwatchMetricUsdPerMonth,
          },
        ];
  lines.push(
    // Each mapping keeps one poller at idle; about 4 idle pollers share an EPU (docs/deploy.md).
    {
      item: `Provisioned pollers: one poller group, ${IDLE_EPUS} EPU (${triggers.length} mappings)`,
      usd: IDLE_EPUS * p.epuUsdPerHour * HOURS,
    },
    {
      item: `Interface endpoints (STS, Lambda) × ${d.azs} AZs`,
      usd: 2 * d.azs * p.interfaceEndpointUsdPerAzHour * HOURS,
    },
    { item: `CloudWatch: dashboard, ${d.alarms} alarms`, usd: p.dashboardUsdPerMonth + d.alarms * p.alarmUsdPerMonth },
    { item: 'KMS key (alarm topic)', usd: p.kmsKeyUsdPerMonth },
  );
  if (capacity !== 'on-demand')
    lines.push({
      item: `DynamoDB minimum capacity (${d.minWcu} WCU, ${d.minRcu} RCU)`,
      usd: (d.minWcu * p.dynamoUsdPerWcuHour + d.minRcu * p.dynamoUsdPerRcuHour) * HOURS,
    });
  return lines;
}

export interface Traffic {
  eventsPerDay: number;
  /** Events posted per POST /events (API Gateway bills requests). */
  eventsPerRequest: number;
  /** Recommendations asked per listen event (a listener asks every ten plays: 0.1). */
  recommendationsPerEvent: number;
  /** JSON bytes per archived event (163 measured). */
  archiveBytesPerEvent: number;
  /**
   * S3 PUTs the archiver makes a second: one object per hour partition and Kafka partition of each
   * batch, so at low traffic about one per partition and batching window whatever the events, at
   * high traffic one per `batchSize` events on top.
   */
  archivePutsPerSecond: (eventsPerSecond: number) => number;
}

export interface Recommendation {
  /** Lambda GB-seconds and DynamoDB read units per recommendation served. */
  lambdaGbSeconds: number;
  readUnits: number;
}

/** Per million recommendations: API Gateway, Lambda (request and GB-s), DynamoDB reads. */
export function perMillionRecommendations(
  r: Recommendation,
  capacity: CapacityMode,
  utilization = 0.7,
  p = BILL_PRICES,
): number {
  const rcu = capacity === 'reserved' ? p.dynamoReservedUsdPerRcuHour : p.dynamoUsdPerRcuHour;
  const reads =
    capacity === 'on-demand'
      ? r.readUnits * p.dynamoUsdPerMillionReadUnits
      : (r.readUnits * rcu * 1e6) / (3600 * utilization);
  return (
    p.apiUsdPerMillionRequests +
    p.lambdaUsdPerMillionRequests +
    r.lambdaGbSeconds * 1e6 * p.lambdaArmUsdPerGbSecond +
    reads
  );
}

export interface BatchLayer {
  buildsPerMonth: number;
  /** Bytes of archive one build reads (the window: its days, capped by ITEM_MODEL_WINDOW_GB). */
  windowBytes: number;
  /** Scans of the window per build (user_items and active_users, rows and newest each). */
  scansPerBuild: number;
  /** Lists a build rewrites, and the write units of one. */
  listsRewrittenPerBuild: number;
  writeUnitsPerList: number;
}

export function batchMonthly(b: BatchLayer, p = BILL_PRICES): { athena: number; dynamo: number } {
  return {
    athena: b.buildsPerMonth * ((b.scansPerBuild * b.windowBytes) / 1e12) * p.athenaUsdPerTb,
    dynamo: (b.buildsPerMonth * b.listsRewrittenPerBuild * b.writeUnitsPerList * p.dynamoUsdPerMillionWriteUnits) / 1e6,
  };
}

/** Personalize's real-time TPS-hours through its tiers. */
export function personalizeTpsUsd(tpsHours: number, p = BILL_PRICES): number {
  let usd = 0;
  let from = 0;
  for (const tier of p.personalizeTpsHourTiers) {
    const hours = Math.max(0, Math.min(tpsHours, tier.upTo) - from);
    usd += hours * tier.usd;
    from = tier.upTo;
    if (tpsHours <= tier.upTo) break;
  }
  return usd;
}

export interface PersonalizeAssumptions {
  /** Bytes per interaction sent with PutEvents. */
  bytesPerEvent: number;
  /** Training hours a month (retraining on the interactions; not measured). */
  trainingHours: number;
  /** The campaign's minimum provisioned TPS (billed whenever traffic is below it). */
  minTps: number;
}

/** Ingestion, training and a real-time campaign serving the same recommendations. */
export function personalizeMonthly(t: Traffic, a: PersonalizeAssumptions, p = BILL_PRICES): Line[] {
  const events = t.eventsPerDay * DAYS;
  const tps = Math.max(a.minTps, (t.eventsPerDay * t.recommendationsPerEvent) / 86_400);
  return [
    { item: 'ingestion', usd: ((events * a.bytesPerEvent) / 1e9) * p.personalizeUsdPerGbIngested },
    { item: `training (${a.trainingHours} h)`, usd: a.trainingHours * p.personalizeUsdPerTrainingHour },
    { item: `real-time campaign (${tps.toFixed(1)} TPS)`, usd: personalizeTpsUsd(tps * HOURS, p) },
  ];
}

export interface Bill {
  eventsPerDay: number;
  capacity: CapacityMode;
  idle: number;
  perEventUsdPerMillion: number;
  perEvent: number;
  recommendations: number;
  /** API Gateway for the posted events, the archive's puts and storage, MSK Serverless data. */
  other: Line[];
  batch: { athena: number; dynamo: number };
  total: number;
}

/**
 * The month at a steady `t.eventsPerDay`: idle part, per-event part (Lambda + DynamoDB from the
 * measured inputs), recommendations served, the rest that grows with events (API Gateway, the
 * archive's puts and storage, MSK Serverless data), and the batch layer.
 */
export function monthlyBill(
  t: Traffic,
  d: Deployment,
  capacity: CapacityMode,
  inputs: CostInputs,
  rec: Recommendation,
  batch: BatchLayer,
  p = BILL_PRICES,
): Bill {
  const millions = (t.eventsPerDay * DAYS) / 1e6;
  const idle = idleMonthly(d, capacity, p).reduce((a, l) => a + l.usd, 0);
  const pe = perEvent(inputs, capacity, 0.7, p).usdPerMillionEvents;
  const recommendations = millions * t.recommendationsPerEvent * perMillionRecommendations(rec, capacity, 0.7, p);
  const gb = (millions * 1e6 * t.archiveBytesPerEvent) / 1e9;
  const puts = t.archivePutsPerSecond(t.eventsPerDay / 86_400) * 86_400 * DAYS;
  const other: Line[] = [
    { item: 'API Gateway (POST /events)', usd: (millions / t.eventsPerRequest) * p.apiUsdPerMillionRequests },
    { item: 'archive puts', usd: (puts / 1000) * p.s3PutUsdPerThousand },
    // A month's archive (prod keeps history in cheaper classes: this is the first month's).
    { item: 'archive storage', usd: gb * p.s3StorageUsdPerGbMonth },
  ];
  if (d.msk === 'serverless')
    // Per million events ~0.5 GB in and ~1 GB out (two consumer groups): docs/deploy.md.
    other.push({
      item: 'MSK Serverless data',
      usd: millions * (0.5 * p.mskServerlessUsdPerGbIn + p.mskServerlessUsdPerGbOut),
    });
  const b = batchMonthly(batch, p);
  return {
    eventsPerDay: t.eventsPerDay,
    capacity,
    idle,
    perEventUsdPerMillion: pe,
    perEvent: millions * pe,
    recommendations,
    other,
    batch: b,
    total: idle + millions * pe + recommendations + other.reduce((a, l) => a + l.usd, 0) + b.athena + b.dynamo,
  };
}

// ---------------------------------------------------------------------------------------------
// The bill docs/deploy.md shows: prod with provisioned MSK (3 × kafka.m7g.large, 3 AZs), at a
// steady 1 M, 10 M and 100 M events a day, each capacity mode.

/** The prod stack `-c stage=prod -c msk=provisioned [-c capacity=provisioned]` synthesizes (test/cdk checks the counts). */
export const PROD_PROVISIONED_MSK: Deployment = {
  label: 'prod, provisioned MSK (3 × kafka.m7g.large, 3 AZs)',
  msk: 'provisioned',
  brokers: 3,
  brokerStorageGiB: 100,
  azs: 3,
  partitions: 25,
  alarms: 72,
  billedMetricsPerBroker: 20,
  minWcu: 36,
  minRcu: 33,
};

export const TRAFFIC_DEFAULTS: Omit<Traffic, 'eventsPerDay'> = {
  eventsPerRequest: 100,
  recommendationsPerEvent: 0.1,
  archiveBytesPerEvent: 163,
  // 6 listen-events partitions, the archiver's 1 s window, batches of ≤ 1,000 records.
  archivePutsPerSecond: (eps) => Math.min(eps, 6 + eps / 1000),
};

/**
 * A recommendation: read-api at 1 GB for a 10 ms billed duration (its handler measured 2.5 ms of
 * CPU), one BatchGet of the profile and the candidate set (each ≤ 4 KB, eventually consistent).
 */
export const RECOMMENDATION: Recommendation = { lambdaGbSeconds: 0.01, readUnits: 1 };

/**
 * Share of its lists a build rewrites after `share` of its window is new (tolerance 2 %): measured
 * 8.8 % at 0.07 % new events and 72 % at 1 % (`npm run bench -- batchDrift`, BATCH_DRIFT_ADDED;
 * BENCHMARKS.md, batch), log-linear between and beyond, at most all of them.
 */
export function rewriteFraction(share: number): number {
  const [s0, f0, s1, f1] = [0.0007, 0.088, 0.01, 0.72];
  const f = f0 + ((f1 - f0) * Math.log(share / s0)) / Math.log(s1 / s0);
  return Math.min(1, Math.max(0, f));
}

/**
 * The batch layer at a steady load: the window is 90 days capped at 10 GB (ITEM_MODEL_WINDOW_*),
 * lists ≈ 0.044 per event in the window (the benchmark world's: 220k at 5 M events, 2.1 M at 50 M),
 * the rewritten share by how much of the window is new since the last build, 4 write units each.
 */
export function batchAt(eventsPerDay: number, buildsPerMonth: number): BatchLayer {
  const windowEvents = Math.min(90 * eventsPerDay, 10e9 / TRAFFIC_DEFAULTS.archiveBytesPerEvent);
  const newShare = Math.min(1, (eventsPerDay * DAYS) / buildsPerMonth / windowEvents);
  return {
    buildsPerMonth,
    windowBytes: windowEvents * TRAFFIC_DEFAULTS.archiveBytesPerEvent,
    scansPerBuild: 4,
    listsRewrittenPerBuild: rewriteFraction(newShare) * 0.044 * windowEvents,
    writeUnitsPerList: 4,
  };
}

/** Personalize at the same traffic: 300 B per interaction, weekly retraining of a 90-day dataset at 1 h per 10 M interactions (≤ 3 B), 1 TPS minimum. */
export function personalizeAt(eventsPerDay: number): Line[] {
  const interactions = Math.min(90 * eventsPerDay, 3e9);
  return personalizeMonthly(
    { ...TRAFFIC_DEFAULTS, eventsPerDay },
    { bytesPerEvent: 300, trainingHours: Math.round((interactions / 10e6) * (DAYS / 7)), minTps: 1 },
  );
}

/** A self-hosted Gorse (sized by us, not measured): r7g VMs with gp3 storage, no HA, ops not priced. */
export function gorseAt(eventsPerDay: number, p = BILL_PRICES): Line {
  if (eventsPerDay <= 1e6)
    return { item: '1 × r7g.large, 100 GB', usd: p.r7gLargeUsdPerHour * HOURS + 100 * p.gp3UsdPerGbMonth };
  if (eventsPerDay <= 1e7)
    return { item: '1 × r7g.2xlarge, 500 GB', usd: p.r7g2xlargeUsdPerHour * HOURS + 500 * p.gp3UsdPerGbMonth };
  return { item: '4 × r7g.2xlarge, 2 TB', usd: 4 * p.r7g2xlargeUsdPerHour * HOURS + 2000 * p.gp3UsdPerGbMonth };
}

export interface BillRow {
  eventsPerDay: number;
  onDemand: Bill;
  provisioned: Bill;
  /** The batch layer built daily instead of hourly. */
  batchDaily: { athena: number; dynamo: number };
  personalize: Line[];
  gorse: Line;
}

export function billRows(inputs: CostInputs, levels = [1e6, 1e7, 1e8]): BillRow[] {
  return levels.map((eventsPerDay) => {
    const t = { ...TRAFFIC_DEFAULTS, eventsPerDay };
    const hourly = batchAt(eventsPerDay, HOURS);
    const bill = (c: CapacityMode) => monthlyBill(t, PROD_PROVISIONED_MSK, c, inputs, RECOMMENDATION, hourly);
    return {
      eventsPerDay,
      onDemand: bill('on-demand'),
      provisioned: bill('provisioned'),
      batchDaily: batchMonthly(batchAt(eventsPerDay, DAYS)),
      personalize: personalizeAt(eventsPerDay),
      gorse: gorseAt(eventsPerDay),
    };
  });
}
