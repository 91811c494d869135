/**
 * The one place that builds DynamoDB clients. DYNAMODB_ENDPOINT points at DynamoDB Local (JVM or
 * container); without it the SDK's regional endpoint and credential chain are used (AWS).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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

export function createDynamoClient(conn: DynamoConnection): DynamoDBClient {
  const config: DynamoDBClientConfig = { region: conn.region, maxAttempts: 8 };
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
