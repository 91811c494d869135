/**
 * The chaos victim: the whole local pipeline (every trigger + HTTP API) on an existing prefix, in
 * its own process so the chaos runner can SIGKILL it mid-batch. Prints READY once consuming;
 * SIGTERM/SIGINT stop it cleanly (in-flight batches finish and commit).
 *
 * Env: CHAOS_PREFIX, KAFKA_BROKERS, DYNAMODB_ENDPOINT.
 */
import { Kafka } from 'kafkajs';
import { startLocalPipeline } from '../../local/pipeline.ts';
import { resolveTopology } from '../../shared/topology.ts';

// A SIGKILLed member keeps its partitions until its session expires (kafkajs default 30 s); Lambda
// fails over faster. Shorter sessions (the broker's minimum is 6 s) keep each restart quick.
const consumer = Kafka.prototype.consumer;
Kafka.prototype.consumer = function (this: Kafka, config) {
  return consumer.call(this, { sessionTimeout: 6_000, heartbeatInterval: 1_000, ...config });
};

const prefix = process.env.CHAOS_PREFIX;
const brokers = process.env.KAFKA_BROKERS;
const dynamodbEndpoint = process.env.DYNAMODB_ENDPOINT;
if (!prefix || !brokers || !dynamodbEndpoint) {
  process.stderr.write('CHAOS_PREFIX, KAFKA_BROKERS and DYNAMODB_ENDPOINT are required\n');
  process.exit(2);
}

const pipeline = await startLocalPipeline({
  topology: resolveTopology(prefix),
  kafkaBrokers: brokers.split(','),
  dynamodbEndpoint,
  port: 0,
  batchingWindowMs: 100,
  backoff: { initialMs: 50, maxMs: 1000 },
  // The chaos check compares profiles; a periodic item model build would only add load.
  scheduleEverySeconds: 0,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write('READY\n');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  pipeline.stop().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`stop failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
