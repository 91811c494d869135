/**
 * `npm run invoke -- <function> <event.json> [--env-prefix p]`: like `sam local invoke`, runs one
 * handler once against the real local infrastructure and prints its result (or Lambda's error
 * payload) as JSON on stdout. Logs go to stderr, so stdout pipes cleanly into jq.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { functions } from '../shared/topology.ts';
import { onShutdown, provisionTopology, startInfrastructure } from './infra/index.ts';
import { applyFunctionEnv, functionEnv, functionNames, invokeFunction, isFunctionName } from './runtime/functions.ts';

const EVENTS_DIR = resolve(import.meta.dirname, '../events');

function sampleEvents(): string[] {
  try {
    return readdirSync(EVENTS_DIR)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
}

function usage(): string {
  const events = sampleEvents();
  return [
    'Usage: npm run invoke -- <function> <event.json | events/<name> | -> [--env-prefix <prefix>]',
    '',
    'Invokes one handler with an event (like `sam local invoke`): starts Kafka and DynamoDB Local',
    '(or uses KAFKA_BROKERS / DYNAMODB_ENDPOINT when set, e.g. those of a running `npm start`),',
    'provisions the topology under the prefix (default none), prints the result as JSON, stops.',
    "Exit code 1 when the handler fails; stdout then holds Lambda's error payload.",
    '',
    'Functions:',
    ...functionNames.map((n) => `  ${n.padEnd(18)} ${functions[n].description}`),
    '',
    'Sample events (events/):',
    ...(events.length > 0 ? events.map((e) => `  events/${e}`) : ['  (none yet)']),
    '',
  ].join('\n');
}

function readEvent(arg: string): unknown {
  let text: string;
  if (arg === '-') {
    text = readFileSync(0, 'utf8');
  } else {
    const candidates = [resolve(arg), resolve(EVENTS_DIR, arg), resolve(EVENTS_DIR, `${arg}.json`)];
    const path = candidates.find((p) => {
      try {
        readFileSync(p);
        return true;
      } catch {
        return false;
      }
    });
    if (!path) throw new Error(`event file not found: ${arg}`);
    text = readFileSync(path, 'utf8');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`event is not valid JSON: ${(err as Error).message}`);
  }
}

/** The payload Lambda returns for a failed invocation. */
function lambdaError(err: unknown): Record<string, unknown> {
  const e = err instanceof Error ? err : new Error(String(err));
  return { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'env-prefix': { type: 'string', default: '' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  const [name, eventArg] = positionals;
  if (!name || !eventArg) {
    process.stderr.write(usage());
    return 2;
  }
  if (!isFunctionName(name)) {
    process.stderr.write(`unknown function "${name}"\n\n${usage()}`);
    return 2;
  }
  const event = readEvent(eventArg);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  // Like `sam local invoke`: the handler's logs (Powertools writes to stdout) go to stderr, and
  // stdout carries only the result.
  const printResult = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

  const infra = await startInfrastructure({ log: (l) => log(`[infra] ${l}`) });
  onShutdown(() => infra.stop());
  try {
    const topology = await provisionTopology(infra, values['env-prefix']);
    applyFunctionEnv(
      functionEnv({ topology, kafkaBrokers: infra.kafkaBrokers, dynamodbEndpoint: infra.dynamodbEndpoint }),
    );
    try {
      const result = await invokeFunction(name, event, { log });
      printResult(`${JSON.stringify(result ?? null, null, 2)}\n`);
      return 0;
    } catch (err) {
      log(`[invoke] ${name} failed: ${(err as Error)?.stack ?? err}`);
      printResult(`${JSON.stringify(lambdaError(err), null, 2)}\n`);
      return 1;
    }
  } finally {
    // Handlers keep a producer per container; close it so the process can end cleanly.
    const kafkaAdapter = await import('../shared/adapters/kafka.ts').catch(() => undefined);
    await kafkaAdapter?.disconnectProducer?.();
    await infra.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`invoke: ${(err as Error)?.message ?? err}\n`);
    process.exit(1);
  },
);
