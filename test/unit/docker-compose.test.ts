import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine here to run it, so check what users rely on: services, host ports, wiring.
describe('docker-compose.localstack.yml', () => {
  const doc = parse(readFileSync(new URL('../../docker-compose.localstack.yml', import.meta.url), 'utf8'));
  const services = doc.services as Record<
    string,
    { ports?: string[]; command?: string[]; environment?: Record<string, string> }
  >;

  it('has Redpanda, its console, DynamoDB Local and LocalStack', () => {
    expect(Object.keys(services).sort()).toEqual(['dynamodb-local', 'localstack', 'redpanda', 'redpanda-console']);
  });

  it('publishes the ports the README tells users to point KAFKA_BROKERS and DYNAMODB_ENDPOINT at, on loopback only', () => {
    expect(services.redpanda?.ports).toContain('127.0.0.1:19092:19092');
    expect(services['dynamodb-local']?.ports).toContain('127.0.0.1:8000:8000');
    expect(services['redpanda-console']?.ports).toContain('127.0.0.1:8080:8080');
    expect(services.localstack?.ports).toContain('127.0.0.1:4566:4566');
    for (const [name, svc] of Object.entries(services)) {
      for (const port of svc.ports ?? [])
        expect(port, `${name} must not listen on all interfaces`).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('advertises the Kafka listener the host can reach', () => {
    expect(services.redpanda?.command).toContain(
      '--advertise-kafka-addr=internal://redpanda:9092,external://127.0.0.1:19092',
    );
    expect(services['redpanda-console']?.environment?.KAFKA_BROKERS).toBe('redpanda:9092');
  });

  it('runs DynamoDB Local in memory with a shared DB, like the JVM the project starts', () => {
    expect(services['dynamodb-local']?.command).toEqual(
      expect.arrayContaining(['-inMemory', '-sharedDb', '-disableTelemetry']),
    );
  });

  it('README documents the same endpoints', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('KAFKA_BROKERS=127.0.0.1:19092');
    expect(readme).toContain('DYNAMODB_ENDPOINT=http://127.0.0.1:8000');
  });
});
