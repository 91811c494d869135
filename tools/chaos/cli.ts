/** `npm run chaos -- [--events N] [--kills K] [--redeliveries R] [--out file.json]` */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { onShutdown, startInfrastructure } from '../../local/infra/index.ts';
import { logKafkaClientsIn } from '../../shared/adapters/kafka-log.ts';
import { runChaos } from './run.ts';

const USAGE = `Usage: npm run chaos -- [options]

Starts Kafka and DynamoDB Local once (or uses KAFKA_BROKERS / DYNAMODB_ENDPOINT), runs the local
pipeline in a child process, produces generated served lists to served-lists and waits until the
attributor has stored them, then produces generated listen events (Zipf users, shuffled timestamps,
client-duplicated eventIds, some naming a served list) to listen-events, SIGKILLs and restarts the
child K times, rewinds the committed offsets of the profile-updater and of both attributor groups
R times, then compares every profile in DynamoDB with the batch reference and the attribution
counters with theirs. Prints (and with --out writes) a JSON summary; exits 1 on any mismatch or
loss.

Options:
  --events <n>        events to produce (default 3000)
  --kills <k>         SIGKILLs of the pipeline (default 2)
  --redeliveries <r>  forced redeliveries by rewinding committed offsets (default 1)
  --users <u>         listeners (default events/20, between 50 and 5000)
  --seed <n>          workload seed (default random; printed)
  --out <file>        write the JSON summary there too
  -h, --help          show this help
`;

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '3000' },
    kills: { type: 'string', default: '2' },
    redeliveries: { type: 'string', default: '1' },
    users: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const int = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${v}`);
  return n;
};
const log = (line: string) => process.stderr.write(`[chaos] ${line}\n`);
const abort = new AbortController();
const infra = await startInfrastructure({ log, logDir: '.data/chaos-logs' });
// The pipeline children inherit it.
log(`kafkajs logs to ${logKafkaClientsIn(infra.logDir)}`);
onShutdown(async () => {
  abort.abort();
  await infra.stop();
});
try {
  const result = await runChaos({
    kafkaBrokers: infra.kafkaBrokers,
    dynamodbEndpoint: infra.dynamodbEndpoint,
    events: int('events', values.events),
    kills: int('kills', values.kills),
    redeliveries: int('redeliveries', values.redeliveries),
    ...(values.users ? { users: int('users', values.users) } : {}),
    ...(values.seed ? { seed: int('seed', values.seed) } : {}),
    log,
    signal: abort.signal,
  });
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  if (values.out) writeFileSync(values.out, `${json}\n`);
  await infra.stop();
  const clean =
    result.mismatches === 0 && result.lost === 0 && result.overCounted === 0 && result.attribution.mismatches === 0;
  process.exit(clean ? 0 : 1);
} catch (err) {
  process.stderr.write(`error: ${(err as Error).message}\n`);
  await infra.stop();
  process.exit(1);
}
