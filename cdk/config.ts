/**
 * Deployment configuration from CDK context (`-c key=value`). Everything that differs between stages
 * or deployments lives here; topology (topics, tables, routes, triggers, functions) does not — it
 * comes from shared/topology.ts.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { type ScheduleSpec, schedules } from '../shared/topology.ts';

export type Stage = 'dev' | 'prod';
export type MskMode = 'serverless' | 'provisioned';
export type CapacityMode = 'on-demand' | 'provisioned';

export interface JwtConfig {
  readonly issuer: string;
  readonly audience: readonly string[];
}

export interface TunestreamConfig {
  readonly stage: Stage;
  readonly msk: MskMode;
  /**
   * DynamoDB capacity: on-demand (default), or provisioned with auto scaling for the tables whose
   * load follows the event stream (`provisionedCapacity` in shared/topology.ts).
   */
  readonly capacity: CapacityMode;
  /** Optional JWT authorizer for the `access: 'read'` routes (writes stay IAM-only). */
  readonly jwt?: JwtConfig;
  /** Provisioned MSK only. */
  readonly mskBrokerType: string;
  readonly mskKafkaVersion: string;
  readonly mskBrokerVolumeGiB: number;
  /**
   * Availability zones of the VPC (and brokers of a provisioned cluster, one per AZ): 3 in prod, so
   * MSK's default replication factor is 3 and a zone can fail without losing writes; 2 in dev.
   */
  readonly azCount: 2 | 3;
  /**
   * Replication factor the topic provisioner creates topics with. Provisioned: one replica per
   * broker, at most 3. Serverless: -1 (the broker default); MSK Serverless manages replication
   * itself (3 replicas) and does not let clients choose.
   */
  readonly topicReplicationFactor: number;
  /** Optional e-mail subscription on the alarm topic. */
  readonly alarmEmail?: string;
  /**
   * Minutes between item model builds in the cloud (`-c batchEveryMinutes`; default the topology's
   * schedule, hourly). At 10 M events a day and more an hourly build rewrites most lists each time:
   * daily costs a fraction (docs/deploy.md, "Rough monthly cost").
   */
  readonly batchEveryMinutes: number;
  /**
   * A prebuilt dashboard to upload (`-c dashboardDist=<dir>`). Absent: synthesis builds it from
   * dashboard/ (vite, as asset bundling), so a fresh checkout deploys after `npm ci`.
   */
  readonly dashboardDist?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: RetentionDays;
  readonly deletionProtection: boolean;
  readonly apiThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Days before dead-lettered batches in the on-failure bucket expire. */
  readonly deadLetterExpiration: Duration;
}

/** Context keys understood by the app (documented in docs/deploy.md). */
export const CONTEXT_KEYS = [
  'stage',
  'msk',
  'capacity',
  'jwtIssuer',
  'jwtAudience',
  'mskBrokerType',
  'mskKafkaVersion',
  'mskBrokerVolumeGiB',
  'azs',
  'alarmEmail',
  'dashboardDist',
  'batchEveryMinutes',
] as const;

function str(node: Node, key: string): string | undefined {
  const v: unknown = node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

export function configFromContext(node: Node): TunestreamConfig {
  const stage = (str(node, 'stage') ?? 'dev') as Stage;
  if (stage !== 'dev' && stage !== 'prod') throw new Error(`-c stage must be dev or prod, got ${stage}`);
  const msk = (str(node, 'msk') ?? 'serverless') as MskMode;
  if (msk !== 'serverless' && msk !== 'provisioned')
    throw new Error(`-c msk must be serverless or provisioned, got ${msk}`);
  const capacity = (str(node, 'capacity') ?? 'on-demand') as CapacityMode;
  if (capacity !== 'on-demand' && capacity !== 'provisioned')
    throw new Error(`-c capacity must be on-demand or provisioned, got ${capacity}`);

  const jwtIssuer = str(node, 'jwtIssuer');
  const jwtAudience = str(node, 'jwtAudience');
  if ((jwtIssuer === undefined) !== (jwtAudience === undefined))
    throw new Error('-c jwtIssuer and -c jwtAudience go together (both or neither)');
  if (jwtIssuer !== undefined && !jwtIssuer.startsWith('https://'))
    throw new Error(`-c jwtIssuer must be an https URL, got ${jwtIssuer}`);
  const jwt =
    jwtIssuer && jwtAudience
      ? {
          issuer: jwtIssuer,
          audience: jwtAudience
            .split(',')
            .map((a) => a.trim())
            .filter(Boolean),
        }
      : undefined;

  const prod = stage === 'prod';
  const volume = Number(str(node, 'mskBrokerVolumeGiB') ?? (prod ? 100 : 20));
  if (!Number.isInteger(volume) || volume < 1) throw new Error(`-c mskBrokerVolumeGiB must be a positive integer`);
  const batchSchedule = schedules.find((x: ScheduleSpec) => x.cloudStateMachine);
  const batchEveryMinutes = Number(str(node, 'batchEveryMinutes') ?? batchSchedule?.everyMinutes ?? 60);
  if (!Number.isInteger(batchEveryMinutes) || batchEveryMinutes < 60 || batchEveryMinutes > 10_080)
    throw new Error(
      `-c batchEveryMinutes must be whole minutes from 60 (hourly) to 10080 (weekly), got ${batchEveryMinutes}`,
    );
  const azCount = Number(str(node, 'azs') ?? (prod ? 3 : 2));
  if (azCount !== 2 && azCount !== 3) throw new Error(`-c azs must be 2 or 3, got ${azCount}`);
  return {
    stage,
    msk,
    capacity,
    jwt,
    // t3.small is the cheapest broker that supports IAM auth; fine for dev, not for sustained load.
    mskBrokerType: str(node, 'mskBrokerType') ?? (prod ? 'kafka.m7g.large' : 'kafka.t3.small'),
    mskKafkaVersion: str(node, 'mskKafkaVersion') ?? '3.9.x',
    mskBrokerVolumeGiB: volume,
    azCount,
    topicReplicationFactor: msk === 'provisioned' ? Math.min(3, azCount) : -1,
    alarmEmail: str(node, 'alarmEmail'),
    batchEveryMinutes,
    ...(str(node, 'dashboardDist') ? { dashboardDist: path.resolve(str(node, 'dashboardDist')!) } : {}),
    removalPolicy: prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    logRetention: prod ? RetentionDays.THREE_MONTHS : RetentionDays.ONE_WEEK,
    deletionProtection: prod,
    apiThrottle: prod ? { rateLimit: 500, burstLimit: 1000 } : { rateLimit: 50, burstLimit: 100 },
    logLevel: prod ? 'INFO' : 'DEBUG',
    deadLetterExpiration: Duration.days(prod ? 90 : 14),
  };
}
