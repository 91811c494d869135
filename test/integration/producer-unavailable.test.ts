/**
 * POST /events when Kafka is unreachable answers 503 ("retry with the same eventIds") inside the
 * ingest function's timeout, instead of hanging until Lambda kills it. Before the producer's retry
 * budget was bounded, kafkajs retried an idempotent producer's send forever (and a cold connect
 * took 15–19 s), so the caller only ever saw a timeout.
 *
 * Two ways a broker goes away: a cold container whose broker is not there (a closed port), and a
 * warm container whose broker stops after it connected (a broker this file starts and stops
 * itself; the shared one of the global setup is left alone).
 *
 * The handler runs in a worker thread (the local runtime's "container") with NODE_ENV=production:
 * kafkajs reads NODE_ENV once, and under vitest's NODE_ENV=test it swaps in short retry defaults
 * (1 s max backoff) that hide exactly this bug.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { componentDir } from '../../local/infra/jvm.ts';
import { type RunningKafka, startKafkaBroker } from '../../local/infra/kafka-broker.ts';
import { freePort } from '../../local/infra/ports.ts';
import { type FunctionPool, startFunctionPool } from '../../local/runtime/function-pool.ts';
import { functionEnv } from '../../local/runtime/functions.ts';
import { PRODUCE_DEADLINE_MS } from '../../shared/adapters/kafka.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { functions, resolveTopology } from '../../shared/topology.ts';
import { testPrefix } from '../support/infra.ts';

const sample = JSON.parse(readFileSync(new URL('../../events/ingest-events.json', import.meta.url), 'utf8'));
const TIMEOUT_MS = functions['ingest-events'].timeoutSeconds * 1000;
const topology = resolveTopology(testPrefix('unavailable'));

const pools: FunctionPool[] = [];

/** A fresh ingest-events container whose env points at `brokers` (workers copy process.env). */
function ingestContainer(brokers: string[]): FunctionPool {
  Object.assign(process.env, {
    ...functionEnv({ topology, kafkaBrokers: brokers, dynamodbEndpoint: 'http://127.0.0.1:1' }),
    NODE_ENV: 'production',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  });
  const pool = startFunctionPool({ name: 'ingest-events', size: 1 });
  pools.push(pool);
  return pool;
}

/** One POST /events; the worker enforces the function's configured timeout, as Lambda does. */
async function postEvents(
  container: FunctionPool,
): Promise<{ statusCode: number; body: Record<string, unknown>; ms: number }> {
  const t0 = performance.now();
  const res = (await container.invoke(sample)) as { statusCode: number; body: string };
  return { statusCode: res.statusCode, body: JSON.parse(res.body), ms: performance.now() - t0 };
}

afterAll(async () => {
  for (const pool of pools) await pool.close();
});

describe('POST /events with Kafka unreachable', () => {
  it('cold container, no broker listening: 503 well inside the timeout', async () => {
    const container = ingestContainer([`127.0.0.1:${await freePort()}`]);
    const res = await postEvents(container);
    expect(res.statusCode).toBe(503);
    expect(res.body.message).toMatch(/retry with the same eventIds/);
    expect(res.ms).toBeLessThan(TIMEOUT_MS);
    // The produce deadline leaves the function time to answer (and a cold start room to happen).
    expect(PRODUCE_DEADLINE_MS).toBeLessThanOrEqual(TIMEOUT_MS / 2);
  });

  // Needs the JVM Kafka component (resolved by `npm run infra:resolve`, as CI does); with an
  // external broker only (KAFKA_BROKERS, e.g. Redpanda in Docker) there is nothing to start.
  const haveKafka = existsSync(componentDir('kafka'));
  describe.skipIf(!haveKafka)('warm container, broker stops after the producer connected', () => {
    let broker: RunningKafka | undefined;
    let container: FunctionPool;
    beforeAll(async () => {
      const logDir = mkdtempSync(join(tmpdir(), 'tunestream-stopped-broker-'));
      broker = await startKafkaBroker({
        port: await freePort(),
        controllerPort: await freePort(),
        logDir,
        heapMb: 256,
      });
      const admin = createKafka({ brokers: broker.brokers, auth: 'none', clientId: 'test-unavailable' }).admin();
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: topology.topicNames.listenEvents, numPartitions: 2, replicationFactor: 1 }],
      });
      await admin.disconnect();
      container = ingestContainer(broker.brokers);
    }, 120_000);
    afterAll(() => broker?.stop());

    it('202 while the broker runs, 503 (not a timeout) once it is gone', async () => {
      const before = await postEvents(container);
      expect(before.statusCode).toBe(202);
      expect(before.body.accepted).toBe(2);

      await broker!.jvm.stop();
      const during = await postEvents(container);
      expect(during.statusCode).toBe(503);
      expect(during.ms).toBeLessThan(TIMEOUT_MS);

      // A second request after the failure does not wait on the dead producer either.
      const again = await postEvents(container);
      expect(again.statusCode).toBe(503);
      expect(again.ms).toBeLessThan(TIMEOUT_MS);
    });
  });
});
