/**
 * `npm run infra -- <command>`: manage the local Kafka broker and DynamoDB Local on their own.
 *   resolve   fetch the pinned JVM components from Maven Central into the cache (CI does this first)
 *   up        start both, create the topology's topics and tables, print the endpoints, wait for Ctrl-C
 *   status    show where the cache is and whether the components are resolved
 */
import { parseArgs } from 'node:util';
import { onShutdown, provisionTopology, startInfrastructure } from './infra/index.ts';
import { cacheRoot, checkJava, componentDir, PrerequisiteError, resolveComponent } from './infra/jvm.ts';

const USAGE = `Usage: npm run infra -- <command> [options]

Commands:
  resolve          Fetch Kafka ${'4.1'}, DynamoDB Local 3.x and Trino's SQL parser (435, the batch SQL check)
                   from Maven Central into ${cacheRoot()}/jvm
                   (first run only; later runs start offline).
  up               Start Kafka (KRaft) and DynamoDB Local, create the topology's topics and tables,
                   print the endpoints and stay up until Ctrl-C.
  status           Show the cache location and what is resolved.

Options:
  --prefix <p>     Name prefix for topics and tables (default: none).
  -h, --help       Show this help.

Environment:
  KAFKA_BROKERS, DYNAMODB_ENDPOINT   use external services (e.g. Redpanda, a DynamoDB Local
                                     container) instead of starting JVMs
  KAFKA_PORT, DYNAMODB_PORT          fixed ports for the JVMs (default: free ports)
  TUNESTREAM_CACHE_DIR               where the JVM components are cached
`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { prefix: { type: 'string', default: '' }, help: { type: 'boolean', short: 'h' } },
  });
  const command = positionals[0];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  switch (command) {
    case 'resolve': {
      checkJava();
      for (const component of ['kafka', 'dynamodb', 'trino-parser'] as const) {
        const seconds = await resolveComponent(component, log);
        log(
          `${component}: ${seconds > 0 ? `resolved in ${seconds.toFixed(1)} s` : 'already resolved'} (${componentDir(component)})`,
        );
      }
      return;
    }
    case 'status': {
      const { existsSync } = await import('node:fs');
      for (const component of ['kafka', 'dynamodb', 'trino-parser'] as const) {
        const dir = componentDir(component);
        log(`${component}: ${existsSync(`${dir}/.resolved`) ? 'resolved' : 'not resolved'} (${dir})`);
      }
      return;
    }
    case 'up': {
      const infra = await startInfrastructure({ log });
      onShutdown(() => infra.stop());
      const topology = await provisionTopology(infra, values.prefix);
      const mem = infra.memory();
      log(`Kafka brokers:     ${infra.kafkaBrokers.join(',')}`);
      log(`DynamoDB endpoint: ${infra.dynamodbEndpoint}`);
      log(`topics: ${Object.values(topology.topicNames).join(', ')}`);
      log(`tables: ${Object.values(topology.tableNames).join(', ')}`);
      log(
        `ready in kafka ${infra.timings.kafkaReadySeconds?.toFixed(1) ?? '-'} s, dynamodb ${infra.timings.dynamodbReadySeconds?.toFixed(1) ?? '-'} s; ` +
          `RSS kafka ${mem.kafkaMiB?.toFixed(0) ?? '-'} MiB, dynamodb ${mem.dynamodbMiB?.toFixed(0) ?? '-'} MiB; logs in ${infra.logDir}`,
      );
      log('Ctrl-C to stop.');
      return;
    }
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof PrerequisiteError ? '' : 'error: '}${(err as Error).message}\n`);
  process.exit(1);
});
