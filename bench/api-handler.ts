/**
 * Child process for the api benchmark: the read-api handler alone, as a Lambda container runs it —
 * one request at a time, the exact API Gateway 2.0 event (built before the clock starts: API
 * Gateway's work, not the function's), the real DynamoDB Local — with nothing else in the process
 * (no HTTP server, no pipeline, no load generator). Its CPU per request is what Lambda bills and
 * what the "serving CPU" goal means; the autocannon runs measure the whole local runtime instead.
 *
 * Interleaved with the handler, in the same process and rounds (so under the same machine load):
 * - the recommendation's one BatchGet alone, through the wire client the handler uses and through
 *   the SDK's DocumentClient (the former path), to show what the request itself costs;
 * - a keep-alive HTTP round trip to a trivial Node server in another process: the floor any
 *   handler making one network request pays on this machine (its syscalls are expensive here);
 * - recording a served list alone (the listener's variant, a recommendationId, the JSON line and
 *   its write): what attribution adds to every answer. The handler's own served-list lines go to
 *   /dev/null with one write each, as Lambda's go to its log pipe; their bytes are counted (what
 *   CloudWatch Logs bills).
 *
 * argv: users count rounds; env: the functions' env (tables, endpoint). Prints JSON.
 */
import { spawn } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { buildHttpApiEvent } from '../local/runtime/apigw-v2.ts';
import { createLambdaContext } from '../local/runtime/lambda-context.ts';
import { storesFromEnv } from '../shared/adapters/dynamodb/stores.ts';
import { disconnectProducer, produce, topicsFromEnv } from '../shared/adapters/kafka.ts';
import { newRecommendationId } from '../shared/domain/experiments/recommendation-id.ts';
import { servedListLine } from '../shared/domain/experiments/served-list.ts';
import { listenerVariant } from '../shared/handlers/experiment.ts';
import { recordServed } from '../shared/handlers/served-lists.ts';
import { tableEnvVar } from '../shared/topology.ts';

// Served-list lines: one write(2) each to /dev/null (Lambda: to the log pipe), bytes counted;
// this process's stdout stays the JSON result.
const devNull = openSync('/dev/null', 'w');
const served = { lines: 0, bytes: 0 };
let currentKind = '';
const writeStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (typeof chunk === 'string' && chunk.startsWith('{"served"')) {
    if (currentKind === 'handler') {
      served.lines++;
      served.bytes += Buffer.byteLength(chunk);
    }
    writeSync(devNull, chunk);
    return true;
  }
  return (writeStdout as (...a: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

const [usersArg, countArg, roundsArg] = process.argv.slice(2);
const users = Number(usersArg);
const count = Number(countArg);
const rounds = Number(roundsArg ?? 3);

const { handler } = await import('../functions/read-api/handler.ts');
const route = { method: 'GET', path: '/users/{userId}/recommendations', function: 'read-api' as const };
const userOf = (i: number) => `u${(i * 7919) % users}`;
const events: APIGatewayProxyEventV2[] = Array.from({ length: count }, (_, i) =>
  buildHttpApiEvent(
    {
      method: 'GET',
      url: `/users/${userOf(i)}/recommendations`,
      rawHeaders: ['host', 'localhost', 'user-agent', 'bench'],
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
    },
    route,
    { userId: userOf(i) },
    { accountId: '000000000000', apiId: 'local', stage: '$default' },
  ),
);

const stores = storesFromEnv();
const { profiles, candidates } = stores.tableNames;
const keysOf = (i: number) => ({
  [profiles]: { Keys: [{ userId: userOf(i) }] },
  [candidates]: { Keys: [{ userId: userOf(i) }] },
});

const server = spawn(
  process.execPath,
  [
    '-e',
    "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>s.end('{}'))}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})",
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const port = await new Promise<number>((resolve) => server.stdout!.once('data', (d) => resolve(Number(String(d)))));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const trivialRequest = () =>
  new Promise<void>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end('{"RequestItems":{}}');
  });

let non2xx = 0;
const kinds = {
  handler: async (i: number) => {
    // A fresh context per invocation, as the runtime gives (its deadline starts now).
    const result = (await handler(events[i]!, createLambdaContext('read-api'))) as { statusCode: number };
    if (result.statusCode < 200 || result.statusCode >= 300) non2xx++;
  },
  wireBatchGet: async (i: number) => {
    await stores.wire.call('BatchGetItem', {
      RequestItems: {
        [profiles]: { Keys: [{ userId: { S: userOf(i) } }] },
        [candidates]: { Keys: [{ userId: { S: userOf(i) } }] },
      },
    });
  },
  sdkBatchGet: async (i: number) => {
    await stores.client.send(new BatchGetCommand({ RequestItems: keysOf(i) }));
  },
  httpFloor: async () => trivialRequest(),
  // What the handler does per answer to record it, with a typical answer's 20 ids.
  recording: async (i: number) => {
    const userId = userOf(i);
    recordServed({
      userId,
      route: 'recommendations',
      kind: 'track',
      variant: listenerVariant(userId).name,
      strategy: 'collaborative',
      items: typicalItems,
    });
  },
};
const typicalItems = Array.from({ length: 20 }, (_, k) => `t${(k * 104729) % 100_000}`);
// The alternatives to a log line, for the record: the same served list as a Kafka produce
// (acks=all, the functions' producer) or a DynamoDB put, each awaited as an answer would have to.
const servedTopic = topicsFromEnv().servedLists;
const servedTable = process.env[tableEnvVar('servedLists')]!;
const servedListOf = (i: number) =>
  servedListLine({
    v: 1,
    id: newRecommendationId(Date.now()),
    userId: userOf(i),
    route: 'recommendations',
    kind: 'track',
    variant: 'control',
    strategy: 'collaborative',
    ts: Date.now(),
    items: typicalItems,
  });
const alternatives = {
  produceServedList: async (i: number) => {
    await produce(servedTopic, [{ key: userOf(i), value: servedListOf(i) }]);
  },
  putServedList: async (i: number) => {
    await stores.wire.call('PutItem', {
      TableName: servedTable,
      Item: { userId: { S: userOf(i) }, sk: { S: newRecommendationId(Date.now()) }, line: { S: servedListOf(i) } },
    });
  },
};
const all = { ...kinds, ...alternatives };
type Kind = keyof typeof all;
const cpu: Record<Kind, number[]> = {
  handler: [],
  wireBatchGet: [],
  sdkBatchGet: [],
  httpFloor: [],
  recording: [],
  produceServedList: [],
  putServedList: [],
};
const wall: Record<string, number[]> = { recording: [], produceServedList: [], putServedList: [] };
const durations: number[] = [];

for (const kind of Object.keys(all) as Kind[]) for (let i = 0; i < 200; i++) await all[kind](i); // warm-up
for (let r = 0; r < rounds; r++) {
  for (const kind of Object.keys(all) as Kind[]) {
    currentKind = kind;
    const c0 = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await all[kind](i);
      if (kind === 'handler') durations.push(performance.now() - t0);
      wall[kind]?.push(performance.now() - t0);
    }
    const c = process.cpuUsage(c0);
    cpu[kind].push((c.user + c.system) / 1000 / count);
  }
}
server.kill();
await disconnectProducer();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentileOf = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
durations.sort((a, b) => a - b);
const at = (p: number) => durations[Math.min(durations.length - 1, Math.floor((p / 100) * durations.length))]!;
process.stdout.write(
  `${JSON.stringify({
    requests: count * rounds,
    non2xx,
    cpuMsPerRequest: median(cpu.handler),
    wireBatchGetCpuMs: median(cpu.wireBatchGet),
    sdkBatchGetCpuMs: median(cpu.sdkBatchGet),
    httpFloorCpuMs: median(cpu.httpFloor),
    servedListCpuMs: median(cpu.recording),
    // The alternatives, per answer: CPU (median of rounds) and wall time (median of calls).
    recordingAlternatives: Object.fromEntries(
      (['recording', 'produceServedList', 'putServedList'] as const).map((k) => [
        k,
        { cpuMs: median(cpu[k]), wallP50Ms: median(wall[k]!), wallP99Ms: percentileOf(wall[k]!, 99) },
      ]),
    ),
    servedLines: served.lines,
    servedLineBytes: served.lines > 0 ? served.bytes / served.lines : 0,
    byRound: cpu,
    p50Ms: at(50),
    p99Ms: at(99),
  })}\n`,
);
process.exit(0);
