/**
 * Starts the real Kafka broker and DynamoDB Local once per test run (or uses KAFKA_BROKERS /
 * DYNAMODB_ENDPOINT when set) and hands their addresses to the test files through `provide`.
 * Each test file isolates itself with its own name prefix (see test/support/infra.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startInfrastructure } from '../../local/infra/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
    dynamodbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The event archiver writes files; keep test runs out of the working tree's .data/archive.
  process.env.ARCHIVE_DIR ??= mkdtempSync(join(tmpdir(), 'tunestream-archive-'));
  const infra = await startInfrastructure({
    log: (line) => process.stderr.write(`[infra] ${line}\n`),
    logDir: process.env.TUNESTREAM_LOG_DIR ?? '.data/test-logs',
  });
  process.stderr.write(
    `[infra] Kafka ${infra.kafkaBrokers.join(',')} and DynamoDB ${infra.dynamodbEndpoint} ready ` +
      `(kafka ${infra.timings.kafkaReadySeconds?.toFixed(1) ?? 'external'} s, dynamodb ${infra.timings.dynamodbReadySeconds?.toFixed(1) ?? 'external'} s)\n`,
  );
  project.provide('kafkaBrokers', infra.kafkaBrokers);
  project.provide('dynamodbEndpoint', infra.dynamodbEndpoint);
  return async () => {
    await infra.stop();
  };
}
