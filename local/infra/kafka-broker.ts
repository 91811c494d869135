/** A single-node Apache Kafka 4.1 broker in KRaft mode (combined broker + controller), as a JVM process. */
import { randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { cacheRoot, componentDir, type JvmProcess, launchJvm } from './jvm.ts';
import { waitUntil } from './wait.ts';

export interface KafkaBrokerOptions {
  port: number;
  controllerPort: number;
  logDir: string;
  heapMb?: number;
}

export interface RunningKafka {
  brokers: string[];
  jvm: JvmProcess;
  stop(): Promise<void>;
}

const LOG4J2 = `
Configuration:
  status: warn
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaServer
        level: INFO
      - name: kafka.server.KafkaRaftServer
        level: INFO
`;

export async function startKafkaBroker(opts: KafkaBrokerOptions): Promise<RunningKafka> {
  const work = mkdtempSync(join(tmpdir(), 'tunestream-kafka-'));
  const dataDir = join(work, 'data');
  const props = join(work, 'server.properties');
  const log4j = join(work, 'log4j2.yaml');
  const host = '127.0.0.1';
  writeFileSync(
    props,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@${host}:${opts.controllerPort}`,
      `listeners=PLAINTEXT://${host}:${opts.port},CONTROLLER://${host}:${opts.controllerPort}`,
      `advertised.listeners=PLAINTEXT://${host}:${opts.port}`,
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      `log.dirs=${dataDir}`,
      // Single node: every internal topic at replication factor 1.
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=4',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'default.replication.factor=1',
      'min.insync.replicas=1',
      // Consumers join at once instead of waiting 3 s for more members.
      'group.initial.rebalance.delay.ms=0',
      // The default 128 MiB dedupe buffer is most of a small heap.
      'log.cleaner.dedupe.buffer.size=2097152',
      // Topics come from the topology; a typo must fail, not create a topic.
      'auto.create.topics.enable=false',
      'num.partitions=1',
      'log.retention.check.interval.ms=300000',
    ].join('\n'),
  );
  writeFileSync(log4j, LOG4J2);
  const classpath = `${componentDir('kafka')}/*`;
  const heap = opts.heapMb ?? 512;
  const jvmOpts = [
    `-Xms${Math.min(256, heap)}m`,
    `-Xmx${heap}m`,
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${log4j}`,
    `-Dkafka.logs.dir=${join(work, 'logs')}`,
    '-cp',
    classpath,
  ];

  await formattedStorage(dataDir, props, jvmOpts, opts.logDir);

  const jvm = launchJvm('kafka', [...jvmOpts, 'kafka.Kafka', props], join(opts.logDir, 'kafka.log'));
  const brokers = [`${host}:${opts.port}`];
  const stop = async () => {
    await jvm.stop();
    rmSync(work, { recursive: true, force: true });
  };
  try {
    await waitForKafka(brokers, 90_000, jvm);
  } catch (err) {
    await stop();
    throw err;
  }
  return { brokers, jvm, stop };
}

/**
 * KRaft storage must be formatted with a cluster id before the first start. Formatting is a JVM
 * start of its own (4–9 s on a loaded 2-core machine, a sixth of `npm start`), and its result does
 * not depend on the ports (the quorum is static: node 1, `controller.quorum.voters`), so it runs
 * once per Kafka install and every start copies that formatted directory into its fresh data
 * directory. One cluster id for every local broker is harmless: each has its own data directory.
 */
async function formattedStorage(dataDir: string, props: string, jvmOpts: string[], logDir: string): Promise<void> {
  // Keyed by the install (its resolved-dependencies digest): a new Kafka formats afresh.
  const resolved = join(componentDir('kafka'), '.resolved');
  const install = existsSync(resolved) ? readFileSync(resolved, 'utf8').trim().slice(0, 16) : 'kafka';
  const template = join(cacheRoot(), 'kafka-storage', install);
  mkdirSync(dirname(template), { recursive: true });
  if (!existsSync(join(template, 'meta.properties'))) {
    // Formatted aside, then renamed into place: concurrent starts (test files) never see half of it.
    // A start killed while formatting leaves its staging directory: gone after ten minutes.
    for (const name of readdirSync(dirname(template))) {
      const path = join(dirname(template), name);
      if (name.includes('.staging-') && Date.now() - statSync(path).mtimeMs > 600_000)
        rmSync(path, { recursive: true, force: true });
    }
    const staging = mkdtempSync(`${template}.staging-`);
    const stagingProps = join(staging, 'server.properties');
    const stagingData = join(staging, 'data');
    writeFileSync(stagingProps, readFileSync(props, 'utf8').replace(/^log\.dirs=.*$/m, `log.dirs=${stagingData}`));
    // base64url may start with '-', which kafka-storage's argument parser takes for an option
    // ("argument --cluster-id/-t: expected one argument"), failing about one format in 64.
    let clusterId: string;
    do clusterId = randomBytes(16).toString('base64url');
    while (clusterId.startsWith('-'));
    const format = launchJvm(
      'kafka-storage-format',
      [...jvmOpts, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', stagingProps],
      join(logDir, 'kafka-format.log'),
    );
    const formatCode = await format.exited;
    if (formatCode !== 0) {
      rmSync(staging, { recursive: true, force: true });
      throw new Error(`Kafka storage format failed (exit ${formatCode}); see ${format.logFile}`);
    }
    try {
      renameSync(stagingData, template);
    } catch (err) {
      // Another start formatted it first: use theirs.
      if (!existsSync(join(template, 'meta.properties'))) throw err;
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  cpSync(template, dataDir, { recursive: true });
}

/** Ready means the broker answers a metadata request with itself as a live broker, not just an open port. */
export async function waitForKafka(brokers: string[], timeoutMs: number, jvm?: JvmProcess): Promise<void> {
  const kafka = new Kafka({
    clientId: 'tunestream-readiness',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
  });
  await waitUntil(
    `Kafka at ${brokers.join(',')}`,
    async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        if (cluster.brokers.length === 0) return false;
        // Also wait for the group coordinator: finding it creates __consumer_offsets, and the first
        // consumers otherwise fail with "coordinator is loading" and restart.
        await admin.describeGroups(['tunestream-readiness']);
        return true;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
    { timeoutMs, intervalMs: 250, failFast: jvm?.exited, logHint: jvm?.logFile },
  );
}
