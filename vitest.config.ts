import { defineConfig } from 'vitest/config';

// Three projects mirror the code: pure units, integration on the real Kafka broker and DynamoDB
// Local (started once per run by the global setup), and assertions on the synthesized CDK template.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two cores: the JVMs need one; more than two test files at once only adds contention.
          maxWorkers: 2,
        },
      },
      {
        test: {
          // The dashboard in headless Chromium against a local pipeline on the real broker.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          sequence: { groupOrder: 1 },
          testTimeout: 90_000,
          hookTimeout: 120_000,
          // Same as integration: projects sharing a group order must agree on workers.
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'cdk',
          include: ['test/cdk/**/*.test.ts'],
          environment: 'node',
          sequence: { groupOrder: 2 },
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
