/** The Kafka adapter's pure parts: topic names from the env. */
import { describe, expect, it } from 'vitest';
import { topicsFromEnv } from '../../../shared/adapters/kafka.ts';
import { ConfigurationError } from '../../../shared/errors.ts';
import { resolveTopology, resourceEnv } from '../../../shared/topology.ts';

describe('topicsFromEnv', () => {
  it('reads every topic name the runtime and the stack set', () => {
    const topology = resolveTopology('t1-');
    expect(topicsFromEnv(resourceEnv(topology))).toEqual(topology.topicNames);
  });

  it('names the missing variable', () => {
    const env = { ...resourceEnv(resolveTopology()), TOPIC_PROFILE_UPDATES: '' };
    expect(() => topicsFromEnv(env)).toThrow(new ConfigurationError('TOPIC_PROFILE_UPDATES is not set'));
    expect(() => topicsFromEnv(env)).toThrow(ConfigurationError);
  });
});
