/** The official DynamoDB Local (3.x) as a JVM process: in memory, shared DB, no telemetry. */
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createDynamoClient } from '../../shared/adapters/dynamodb/client.ts';
import { componentDir, type JvmProcess, launchJvm } from './jvm.ts';
import { waitUntil } from './wait.ts';

export interface DynamoLocalOptions {
  port: number;
  logDir: string;
  heapMb?: number;
}

export interface RunningDynamo {
  endpoint: string;
  jvm: JvmProcess;
  stop(): Promise<void>;
}

export async function startDynamoLocal(opts: DynamoLocalOptions): Promise<RunningDynamo> {
  const dir = componentDir('dynamodb');
  const heap = opts.heapMb ?? 512;
  const jvm = launchJvm(
    'dynamodb-local',
    [
      `-Xmx${heap}m`,
      '-XX:+UseG1GC',
      `-Djava.library.path=${dir}`,
      `-Dsqlite4java.library.path=${dir}`,
      '-cp',
      `${dir}/*`,
      'software.amazon.dynamodb.services.local.main.ServerRunner',
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(opts.port),
    ],
    join(opts.logDir, 'dynamodb-local.log'),
  );
  const endpoint = `http://127.0.0.1:${opts.port}`;
  try {
    await waitForDynamo(endpoint, 60_000, jvm);
  } catch (err) {
    await jvm.stop();
    throw err;
  }
  return { endpoint, jvm, stop: () => jvm.stop() };
}

/** Ready means a real ListTables answers, not just an open port. */
export async function waitForDynamo(endpoint: string, timeoutMs: number, jvm?: JvmProcess): Promise<void> {
  const client = createDynamoClient({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
  client.config.maxAttempts = async () => 1;
  try {
    await waitUntil(
      `DynamoDB at ${endpoint}`,
      async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      },
      { timeoutMs, intervalMs: 200, failFast: jvm?.exited, logHint: jvm?.logFile },
    );
  } finally {
    client.destroy();
  }
}
