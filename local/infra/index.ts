/**
 * Local infrastructure: the real Kafka broker and DynamoDB Local as JVM processes, or external
 * services named by KAFKA_BROKERS / DYNAMODB_ENDPOINT (Redpanda, containers, AWS) — then no JVM
 * is started for that service.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { createDynamoClient } from '../../shared/adapters/dynamodb/client.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { type ResolvedTopology, resolveTopology } from '../../shared/topology.ts';
import { startDynamoLocal, waitForDynamo } from './dynamodb-local.ts';
import { checkJava, type JvmProcess, residentMiB, resolveComponent } from './jvm.ts';
import { startKafkaBroker, waitForKafka } from './kafka-broker.ts';
import { portFromEnv } from './ports.ts';
import { ensureTables, ensureTopics } from './provision.ts';

export interface InfraOptions {
  env?: Record<string, string | undefined>;
  logDir?: string;
  log?: (line: string) => void;
  kafkaHeapMb?: number;
  dynamoHeapMb?: number;
}

export interface Infrastructure {
  kafkaBrokers: string[];
  dynamodbEndpoint: string;
  /** True where the service was given from outside (nothing started for it). */
  external: { kafka: boolean; dynamodb: boolean };
  /** Seconds from launch to ready, per started service (resolve time separate). */
  timings: { resolveSeconds: number; kafkaReadySeconds?: number; dynamodbReadySeconds?: number };
  jvms: JvmProcess[];
  logDir: string;
  /** Resident memory of the started JVMs, MiB. */
  memory(): { kafkaMiB?: number; dynamodbMiB?: number };
  stop(): Promise<void>;
}

export async function startInfrastructure(opts: InfraOptions = {}): Promise<Infrastructure> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const logDir = resolve(opts.logDir ?? env.TUNESTREAM_LOG_DIR ?? '.data/logs');
  mkdirSync(logDir, { recursive: true });
  const externalKafka = env.KAFKA_BROKERS?.trim();
  const externalDynamo = env.DYNAMODB_ENDPOINT?.trim();
  const timings: Infrastructure['timings'] = { resolveSeconds: 0 };

  if (!externalKafka || !externalDynamo) {
    checkJava();
    if (!externalKafka) timings.resolveSeconds += await resolveComponent('kafka', log);
    if (!externalDynamo) timings.resolveSeconds += await resolveComponent('dynamodb', log);
  }

  const stops: (() => Promise<void>)[] = [];
  const jvms: JvmProcess[] = [];
  const stop = async () => {
    await Promise.allSettled(stops.splice(0).map((s) => s()));
  };
  try {
    // allSettled: if one fails, the other must finish starting before we can stop it (no orphans).
    const [kafkaResult, dynamoResult] = await Promise.allSettled([
      (async () => {
        if (externalKafka) {
          const brokers = externalKafka.split(',').map((b) => b.trim());
          log(`using external Kafka at ${brokers.join(',')}`);
          await waitForKafka(brokers, 30_000);
          return { brokers };
        }
        const t0 = performance.now();
        const port = await portFromEnv('KAFKA_PORT', env);
        const controllerPort = await portFromEnv('KAFKA_CONTROLLER_PORT', env);
        log(`starting Kafka 4.1 (KRaft) on 127.0.0.1:${port}…`);
        const running = await startKafkaBroker({ port, controllerPort, logDir, heapMb: opts.kafkaHeapMb });
        stops.push(running.stop);
        jvms.push(running.jvm);
        timings.kafkaReadySeconds = (performance.now() - t0) / 1000;
        return { brokers: running.brokers };
      })(),
      (async () => {
        if (externalDynamo) {
          log(`using external DynamoDB at ${externalDynamo}`);
          await waitForDynamo(externalDynamo, 30_000);
          return { endpoint: externalDynamo };
        }
        const t0 = performance.now();
        const port = await portFromEnv('DYNAMODB_PORT', env);
        log(`starting DynamoDB Local on 127.0.0.1:${port}…`);
        const running = await startDynamoLocal({ port, logDir, heapMb: opts.dynamoHeapMb });
        stops.push(running.stop);
        jvms.push(running.jvm);
        timings.dynamodbReadySeconds = (performance.now() - t0) / 1000;
        return { endpoint: running.endpoint };
      })(),
    ]);
    if (kafkaResult.status === 'rejected') throw kafkaResult.reason;
    if (dynamoResult.status === 'rejected') throw dynamoResult.reason;
    const kafka = kafkaResult.value;
    const dynamo = dynamoResult.value;
    return {
      kafkaBrokers: kafka.brokers,
      dynamodbEndpoint: dynamo.endpoint,
      external: { kafka: Boolean(externalKafka), dynamodb: Boolean(externalDynamo) },
      timings,
      jvms,
      logDir,
      memory: () => ({
        kafkaMiB: residentMiB(jvms.find((j) => j.name === 'kafka')?.child.pid),
        dynamodbMiB: residentMiB(jvms.find((j) => j.name === 'dynamodb-local')?.child.pid),
      }),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Creates the topology's topics and tables (with a name prefix) on the given infrastructure. */
export async function provisionTopology(
  infra: Pick<Infrastructure, 'kafkaBrokers' | 'dynamodbEndpoint'>,
  prefix = '',
  region = process.env.AWS_REGION ?? 'us-east-1',
): Promise<ResolvedTopology & { createdTopics: string[]; createdTables: string[] }> {
  const resolved = resolveTopology(prefix);
  const kafka = createKafka({ brokers: infra.kafkaBrokers, auth: 'none', clientId: 'tunestream-provision' });
  const dynamo = createDynamoClient({ endpoint: infra.dynamodbEndpoint, region });
  try {
    const [createdTopics, createdTables] = await Promise.all([
      ensureTopics(kafka, resolved),
      ensureTables(dynamo, resolved),
    ]);
    return { ...resolved, createdTopics, createdTables };
  } finally {
    dynamo.destroy();
  }
}

const SHUTDOWN_TIMEOUT_MS = 20_000;

/** Runs `fn` once on SIGINT or SIGTERM; a second Ctrl-C forces exit, and so does a stop that hangs. */
export function onShutdown(fn: () => Promise<void>): void {
  let stoppingSince = 0;
  const handler = (signal: NodeJS.Signals) => {
    if (stoppingSince) {
      // Ctrl-C reaches npm, tsx and us at once (and tsx relays it): only a later press forces exit.
      if (Date.now() - stoppingSince < 1000) return;
      process.stderr.write(`\n${signal} again: exiting now\n`);
      process.exit(130);
    }
    stoppingSince = Date.now();
    process.stderr.write(`\n${signal}: shutting down…\n`);
    // A stop that hangs (e.g. a client retrying a broker that is gone) must not keep the process
    // alive: the JVMs die with us (parent-death signal) either way.
    setTimeout(() => {
      process.stderr.write(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    fn().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown error: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
