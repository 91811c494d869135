/**
 * Per-file access to the real infrastructure started by the global setup: a unique prefix per
 * file (so files run in parallel without sharing topics or tables), the topology provisioned
 * under it, and the env a handler needs to find its resources.
 */
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { provisionTopology } from '../../local/infra/index.ts';
import { type LocalPipeline, type LocalPipelineOptions, startLocalPipeline } from '../../local/pipeline.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { createKafka } from '../../shared/adapters/kafka-client.ts';
import { resourceEnv } from '../../shared/topology.ts';
import { apiContract, checkedFetch } from './contract.ts';

export const REGION = 'us-east-1';

export function testPrefix(label: string): string {
  return `t${randomBytes(3).toString('hex')}-${label}-`;
}

export async function provisionedTestEnv(label: string) {
  const kafkaBrokers = inject('kafkaBrokers');
  const dynamodbEndpoint = inject('dynamodbEndpoint');
  const prefix = testPrefix(label);
  const topology = await provisionTopology({ kafkaBrokers, dynamodbEndpoint }, prefix, REGION);
  const env: Record<string, string> = {
    ...resourceEnv(topology),
    KAFKA_BROKERS: kafkaBrokers.join(','),
    KAFKA_AUTH: 'none',
    DYNAMODB_ENDPOINT: dynamodbEndpoint,
    AWS_REGION: REGION,
  };
  return {
    prefix,
    topology,
    env,
    kafkaBrokers,
    dynamodbEndpoint,
    kafka: () => createKafka({ brokers: kafkaBrokers, auth: 'none', clientId: `test-${label}` }),
    documentClient: () => createDocumentClient({ endpoint: dynamodbEndpoint, region: REGION }),
  };
}

/**
 * Polls until `probe` returns a value (not undefined) or the deadline passes. The probe may call
 * `seen(x)` with what it observed, so a timeout says what was seen last, not only that it failed:
 * on a loaded machine the difference between "slow" and "never" is in that line.
 */
export async function eventually<T>(
  probe: (seen: (observed: unknown) => void) => Promise<T | undefined>,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastSeen: unknown;
  let sawSomething = false;
  const seen = (observed: unknown) => {
    lastSeen = observed;
    sawSomething = true;
  };
  let attempts = 0;
  while (Date.now() < deadline) {
    attempts++;
    try {
      const value = await probe(seen);
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const details = [
    `${attempts} attempts`,
    sawSomething ? `last seen: ${describeSeen(lastSeen)}` : '',
    lastError ? `last error: ${(lastError as Error).message}` : '',
  ].filter(Boolean);
  throw new Error(`${what} not reached within ${timeoutMs} ms (${details.join('; ')})`);
}

function describeSeen(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 400 ? `${text.slice(0, 400)}…` : text;
}

export type TestEnv = Awaited<ReturnType<typeof provisionedTestEnv>>;

/** The local pipeline on this file's prefix and a free port, with short windows and backoffs. */
export function startTestPipeline(t: TestEnv, overrides: Partial<LocalPipelineOptions> = {}) {
  apiContract(); // compiled now, not while the pipeline runs
  return startLocalPipeline({
    topology: t.topology,
    kafkaBrokers: t.kafkaBrokers,
    dynamodbEndpoint: t.dynamodbEndpoint,
    port: 0,
    batchingWindowMs: 50,
    backoff: { initialMs: 20, maxMs: 200 },
    // Scheduled builds run when a test asks (`schedules.runNow`), not on a timer.
    scheduleEverySeconds: 0,
    ...overrides,
  });
}

/**
 * One request to the local pipeline's HTTP API, JSON in and out; the response is checked against
 * openapi.json for its operation (test/support/contract.ts) before the test sees it.
 */
export async function apiRequest(pipeline: LocalPipeline, method: string, path: string, body?: unknown) {
  const res = await checkedFetch(pipeline.url, path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: res.body as Record<string, unknown> };
}
