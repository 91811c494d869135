/**
 * The e2e project's setup: builds the dashboard once, and reuses the integration project's real
 * Kafka broker and DynamoDB Local when that project already started them in this run (vitest runs
 * global setups per project; two JVM pairs on two cores would only add contention).
 */
import type { TestProject } from 'vitest/node';
import { buildDashboard } from '../../local/dashboard/site.ts';
import startIntegrationInfra from '../integration/global-setup.ts';

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  await buildDashboard();
  const integration = project.vitest.projects.find((p) => p.name === 'integration');
  const shared = integration?.getProvidedContext();
  if (shared?.kafkaBrokers && shared.dynamodbEndpoint) {
    project.provide('kafkaBrokers', shared.kafkaBrokers);
    project.provide('dynamodbEndpoint', shared.dynamodbEndpoint);
    return undefined;
  }
  return startIntegrationInfra(project);
}
