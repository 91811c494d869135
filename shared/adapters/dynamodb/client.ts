/**
 * The one place that builds DynamoDB clients. DYNAMODB_ENDPOINT points at DynamoDB Local (JVM or
 * container); without it the SDK's regional endpoint and credential chain are used (AWS).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoWire } from './wire.ts';

export interface DynamoConnection {
  endpoint?: string;
  region: string;
}

export function dynamoConnectionFromEnv(env: Record<string, string | undefined> = process.env): DynamoConnection {
  return {
    endpoint: env.DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
  };
}

/**
 * The SDK's logger middleware builds a redacted copy of every request and response for
 * `logger.info` / `logger.error` even when the default no-op logger throws it away; it calls them
 * as `logger?.info?.(…)`, so a logger without them skips that work (about a tenth of the profile
 * updater's CPU with 25-item batches). We log failures ourselves.
 */
const QUIET_LOGGER = { trace() {}, debug() {}, warn() {} } as unknown as NonNullable<DynamoDBClientConfig['logger']>;

export function createDynamoClient(conn: DynamoConnection): DynamoDBClient {
  const config: DynamoDBClientConfig = { region: conn.region, maxAttempts: 8, logger: QUIET_LOGGER };
  if (conn.endpoint) {
    config.endpoint = conn.endpoint;
    // DynamoDB Local accepts any credentials; fixed ones keep local runs independent of ~/.aws.
    if (!process.env.AWS_ACCESS_KEY_ID) config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  return new DynamoDBClient(config);
}

export function createDocumentClient(conn: DynamoConnection): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(createDynamoClient(conn), {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
    unmarshallOptions: { wrapNumbers: false },
  });
}

/** The hot paths' signed JSON client (wire.ts), with the SDK client's credential chain. */
export function createDynamoWire(conn: DynamoConnection, client: DynamoDBDocumentClient): DynamoWire {
  return new DynamoWire({
    ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
    region: conn.region,
    credentials: client.config.credentials,
    maxAttempts: 8,
  });
}
