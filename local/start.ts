/**
 * `npm start`: the whole pipeline locally — Kafka and DynamoDB Local (or the external services
 * named by KAFKA_BROKERS / DYNAMODB_ENDPOINT), the topology's topics and tables, every trigger,
 * and the HTTP API — seeded with a small demo world so recommendations answer at once.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { logKafkaClientsIn } from '../shared/adapters/kafka-log.ts';
import { buildDashboard } from './dashboard/site.ts';
import { loadDemo } from './demo-loader.ts';
import { onShutdown, provisionTopology, startInfrastructure } from './infra/index.ts';
import { PrerequisiteError } from './infra/jvm.ts';
import { openApiRoute } from './openapi-route.ts';
import { startLocalPipeline } from './pipeline.ts';
import { writeLocalStack } from './stack-file.ts';

const USAGE = `Usage: npm start [-- options]

Starts the local pipeline: Kafka 4.1 (KRaft) and DynamoDB Local as JVMs (or external services),
the topology's topics and tables, every Kafka trigger as an emulated event source mapping, and the
HTTP API. Ctrl-C stops everything.

Options:
  --port <n>       HTTP port (default: $PORT or 3000)
  --no-demo        Do not load the demo catalog and listeners
  --verbose        Log every invocation (START/END/REPORT) and HTTP request
  -h, --help       Show this help

Environment:
  API_TOKEN                        bearer token every route requires (default: generated once,
                                   kept in .data/api-token)
  KAFKA_BROKERS, DYNAMODB_ENDPOINT use external services instead of starting JVMs
  KAFKA_PORT, DYNAMODB_PORT        fixed ports for the JVMs
  LOCAL_HTTP_WORKERS               worker threads per HTTP function (default: cores − 2, at most
                                   4; 0 runs the handlers in-process)
  KAFKA_CLIENT_LOG_FILE            where kafkajs logs (default: kafkajs.log beside the JVM logs)
  LOCAL_SCHEDULE_SECONDS           seconds between item model builds (default 60; 0 = only the
                                   one after the demo loads)
  PROFILE_HALF_LIFE_DAYS, NEIGHBORS_K, …  settings overrides (see shared/topology.ts)
`;

function apiToken(): string {
  if (process.env.API_TOKEN) return process.env.API_TOKEN;
  const file = resolve('.data/api-token');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = randomBytes(16).toString('hex');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'no-demo': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port ?? process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`invalid port ${values.port ?? process.env.PORT}`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();

  const infra = await startInfrastructure({ log });
  // kafkajs's lines into the log directory; the console shows them unless they are the expected
  // warm-up chatter (shared/adapters/kafka-log.ts). Set before any client, workers inherit it.
  logKafkaClientsIn(infra.logDir);
  let stopPipeline: (() => Promise<void>) | undefined;
  onShutdown(async () => {
    await stopPipeline?.();
    await infra.stop();
    log('stopped.');
  });
  const topology = await provisionTopology(infra);
  const token = apiToken();
  // A failed build is not fatal: the API still runs and / explains how to build the dashboard.
  await buildDashboard({ ifMissing: true, log }).catch((err) => log(`dashboard build failed: ${err.message}`));
  const pipeline = await startLocalPipeline({
    topology,
    kafkaBrokers: infra.kafkaBrokers,
    dynamodbEndpoint: infra.dynamodbEndpoint,
    port,
    authToken: token,
    extraRoutes: [openApiRoute()],
    dashboard: true,
    log: values.verbose ? log : (line) => (line.includes('[http]') ? undefined : log(line)),
    invocationLog: values.verbose ? log : undefined,
  });
  stopPipeline = pipeline.stop;
  const url = pipeline.url;
  // Where `npm run users` and `npm run smoke -- --local` find this stack.
  writeLocalStack({
    url,
    dynamodbEndpoint: infra.dynamodbEndpoint,
    kafkaBrokers: infra.kafkaBrokers,
    prefix: '',
    archiveDir: resolve(process.env.ARCHIVE_DIR || '.data/archive'),
  });
  const auth = { authorization: `Bearer ${token}` };

  if (!values['no-demo']) {
    const { loaded } = await loadDemo({ url, headers: auth, pipeline, log });
    // The item model comes from a scheduled build; the demo loader ran one (its announcement is
    // what refreshes the demo's neighbours), otherwise one now so the first request uses it.
    if (!loaded) await pipeline.schedules.runNow('item-model-builder');
  }

  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const h = `-H 'authorization: Bearer ${token}'`;
  process.stdout.write(`
tunestream is running (ready in ${seconds} s)

  HTTP API          ${url}
  Dashboard         ${url}/?token=${token}
  Kafka brokers     ${infra.kafkaBrokers.join(',')}
  DynamoDB          ${infra.dynamodbEndpoint}
  API token         ${token}
  Logs              ${infra.logDir} (Kafka, DynamoDB Local, kafkajs)

Try:
  curl ${h} ${url}/users/demo-ana/recommendations?limit=5
  curl ${h} ${url}/users/demo-ana/profile
  curl ${h} ${url}/users/demo-ana/neighbors
  curl ${h} ${url}/genres
  npm run users -- create alice      # a ListenBrainz user token; scrobblers use ${url}/1/
  curl ${h} -H 'content-type: application/json' ${url}/events \\
    -d '{"userId":"demo-ana","trackId":"trk-miles-davis-1","artistId":"art-miles-davis","ts":'$(date +%s000)',"type":"like"}'

Ctrl-C to stop.
`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof PrerequisiteError ? '' : 'error: '}${(err as Error).message}\n`);
  process.exit(1);
});
