/**
 * DynamoDB failures never turn into acknowledged-but-unapplied records. Through a small HTTP proxy
 * in front of DynamoDB Local that answers ProvisionedThroughputExceededException on demand, the
 * real SDK client must retry throttling with backoff and apply everything; when DynamoDB keeps
 * is unreachable or a table is missing, the handler must throw (so the event source
 * mapping retries the batch) instead of reporting success.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MSKEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyFunctionEnv } from '../../local/runtime/functions.ts';
import { buildMskEvent } from '../../local/runtime/msk-event.ts';
import { getProfile } from '../../shared/adapters/dynamodb/profiles.ts';
import { createStores, resetStores } from '../../shared/adapters/dynamodb/stores.ts';
import { tableEnvVar } from '../../shared/topology.ts';
import { provisionedTestEnv } from '../support/infra.ts';

type Env = Awaited<ReturnType<typeof provisionedTestEnv>>;

/** Forwards to DynamoDB Local; `throttleNext` requests are answered 400 ProvisionedThroughputExceeded. */
async function throttlingProxy(target: string) {
  const state = { throttleNext: 0, throttled: 0, forwarded: 0 };
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (state.throttleNext > 0) {
        state.throttleNext--;
        state.throttled++;
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'injected throttle',
          }),
        );
        return;
      }
      state.forwarded++;
      const fwd = request(
        { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 500, up.headers);
          up.pipe(res);
        },
      );
      fwd.on('error', (err) => res.destroy(err));
      fwd.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('DynamoDB errors in the triggers', () => {
  let t: Env;
  let proxy: Awaited<ReturnType<typeof throttlingProxy>>;
  let updateProfiles: (e: MSKEvent) => Promise<Record<string, number>>;
  let offset = 0;

  const listenBatch = (userId: string, n: number): MSKEvent => {
    const topic = t.topology.topicNames.listenEvents;
    const records = Array.from({ length: n }, (_, i) => {
      const e = {
        eventId: `${userId}-${i}`,
        userId,
        artistId: 'art-x',
        ts: Date.UTC(2026, 0, 1) + i,
        type: 'play',
        v: 1,
      };
      return {
        topic,
        partition: 0,
        offset: offset++,
        timestamp: e.ts,
        timestampType: 'CREATE_TIME' as const,
        value: Buffer.from(JSON.stringify(e)).toString('base64'),
        headers: [],
      };
    });
    return buildMskEvent(records, {
      eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/x',
      bootstrapServers: '',
    });
  };
  const readProfile = (userId: string) =>
    getProfile(createStores({ endpoint: t.dynamodbEndpoint, region: 'us-east-1' }, t.topology.tableNames), userId);

  beforeAll(async () => {
    t = await provisionedTestEnv('ddb-errors');
    proxy = await throttlingProxy(t.dynamodbEndpoint);
    ({ updateProfiles } = await import('../../functions/profile-updater/handler.ts'));
  });
  afterAll(async () => {
    await proxy?.close();
  });
  beforeEach(() => {
    applyFunctionEnv({ ...t.env, DYNAMODB_ENDPOINT: proxy.url });
    resetStores(); // the handler's client picks up the endpoint above
    proxy.state.throttleNext = 0;
  });

  it('retries throttled requests with backoff and applies every record', async () => {
    proxy.state.throttleNext = 2; // SDK throttle backoff starts at 500 ms: keep the test short
    const summary = await updateProfiles(listenBatch('throttled-user', 5));
    expect(proxy.state.throttled).toBe(2);
    expect(summary.applied).toBe(5);
    expect((await readProfile('throttled-user'))?.counts.events).toBe(5);
  });

  it('throws when DynamoDB is unreachable', async () => {
    applyFunctionEnv({ ...t.env, DYNAMODB_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    resetStores();
    await expect(updateProfiles(listenBatch('unreachable-user', 2))).rejects.toThrow();
    expect(await readProfile('unreachable-user')).toBeUndefined();
  });

  it('throws when the profiles table does not exist', async () => {
    applyFunctionEnv({ ...t.env, [tableEnvVar('profiles')]: `${t.prefix}no-such-table` });
    resetStores();
    await expect(updateProfiles(listenBatch('no-table-user', 2))).rejects.toThrow(
      /non-existent|not found|ResourceNotFound/i,
    );
    applyFunctionEnv(t.env);
    expect(await readProfile('no-table-user')).toBeUndefined();
  });
});
