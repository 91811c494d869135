/**
 * The one place that knows how to connect to Kafka: plain TCP locally (the JVM broker, Redpanda),
 * SASL/OAUTHBEARER with MSK IAM over TLS in the cloud. Everything else asks this module for a client.
 */
import { generateAuthToken } from 'aws-msk-iam-sasl-signer-js';
import { Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import { ConfigurationError } from '../errors.ts';
import { kafkaLogCreator } from './kafka-log.ts';

export type KafkaAuth = 'none' | 'iam';

export interface KafkaConnection {
  brokers: string[];
  auth: KafkaAuth;
  /** Required for IAM auth (the signer signs for a region). */
  region?: string;
  clientId: string;
}

/** Reads KAFKA_BROKERS (comma-separated), KAFKA_AUTH (none|iam) and AWS_REGION. */
export function kafkaConnectionFromEnv(
  clientId: string,
  env: Record<string, string | undefined> = process.env,
): KafkaConnection {
  const brokers = (env.KAFKA_BROKERS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new ConfigurationError('KAFKA_BROKERS is not set (comma-separated host:port list)');
  const auth = (env.KAFKA_AUTH ?? 'none') as KafkaAuth;
  if (auth !== 'none' && auth !== 'iam')
    throw new ConfigurationError(`KAFKA_AUTH must be "none" or "iam", got ${auth}`);
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (auth === 'iam' && !region) throw new ConfigurationError('KAFKA_AUTH=iam needs AWS_REGION');
  return { brokers, auth, region, clientId };
}

/** Per-client overrides of the connection defaults (e.g. the request-path producer's tighter budget). */
export type KafkaClientOverrides = Pick<KafkaConfig, 'retry' | 'connectionTimeout' | 'requestTimeout'>;

export function createKafka(conn: KafkaConnection, overrides: KafkaClientOverrides = {}): Kafka {
  const config: KafkaConfig = {
    clientId: conn.clientId,
    brokers: conn.brokers,
    logLevel: logLevel.WARN,
    // KAFKA_CLIENT_LOG_FILE (set by `npm start`): kafkajs's lines go there, expected chatter only there.
    logCreator: kafkaLogCreator(process.env.KAFKA_CLIENT_LOG_FILE),
    retry: { initialRetryTime: 100, retries: 8 },
    ...overrides,
  };
  if (conn.auth === 'iam') {
    const region = conn.region!;
    config.ssl = true;
    config.sasl = {
      mechanism: 'oauthbearer',
      // MSK IAM tokens last 15 minutes; kafkajs asks again on every (re)authentication.
      oauthBearerProvider: async () => {
        const { token } = await generateAuthToken({ region });
        return { value: token };
      },
    };
  }
  return new Kafka(config);
}
