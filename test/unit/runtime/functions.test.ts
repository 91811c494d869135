import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  functionEnv,
  invokeHandler,
  isFunctionName,
  type LambdaHandler,
  LambdaTimeoutError,
  loadHandler,
} from '../../../local/runtime/functions.ts';
import { createLambdaContext } from '../../../local/runtime/lambda-context.ts';
import { resolveTopology } from '../../../shared/topology.ts';

describe('lambda context', () => {
  it('looks like the deployed function', () => {
    const ctx = createLambdaContext('profile-updater', { region: 'eu-west-1', startedAt: Date.now() });
    expect(ctx).toMatchObject({
      functionName: 'profile-updater',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:000000000000:function:profile-updater',
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/profile-updater',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(ctx.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ctx.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    const remaining = ctx.getRemainingTimeInMillis();
    expect(remaining).toBeGreaterThan(59_000);
    expect(remaining).toBeLessThanOrEqual(60_000);
  });
});

describe('invoking handlers', () => {
  it('resolves async results and passes event and context', async () => {
    let seen: Context | undefined;
    const handler: LambdaHandler = async (event, context) => {
      seen = context;
      return { echo: event };
    };
    await expect(invokeHandler(handler, 'read-api', { a: 1 })).resolves.toEqual({ echo: { a: 1 } });
    expect(seen?.functionName).toBe('read-api');
  });

  it('supports callback-style handlers', async () => {
    const ok: LambdaHandler = (_e, _c, cb) => {
      setTimeout(() => cb(null, 'done'), 5);
    };
    await expect(invokeHandler(ok, 'read-api', {})).resolves.toBe('done');
    const fail: LambdaHandler = (_e, _c, cb) => cb('nope');
    await expect(invokeHandler(fail, 'read-api', {})).rejects.toThrow('nope');
  });

  it('rejects thrown errors and times out like Lambda', async () => {
    const boom: LambdaHandler = async () => {
      throw new TypeError('bad');
    };
    await expect(invokeHandler(boom, 'read-api', {})).rejects.toThrow(TypeError);
    const slow: LambdaHandler = () => new Promise((r) => setTimeout(r, 1000));
    await expect(invokeHandler(slow, 'read-api', {}, { timeoutSeconds: 0.05 })).rejects.toThrow(LambdaTimeoutError);
    await expect(invokeHandler(slow, 'read-api', {}, { timeoutSeconds: 0.05 })).rejects.toThrow(
      'Task timed out after 0.05 seconds',
    );
  });

  it('loads only topology functions by name', async () => {
    expect(isFunctionName('read-api')).toBe(true);
    expect(isFunctionName('../etc')).toBe(false);
    await expect(loadHandler('nope' as never)).rejects.toThrow('unknown function');
  });

  it('builds the env handlers read their resources from', () => {
    const env = functionEnv({
      topology: resolveTopology('p-'),
      kafkaBrokers: ['127.0.0.1:1', '127.0.0.1:2'],
      dynamodbEndpoint: 'http://127.0.0.1:3',
      region: 'us-east-1',
    });
    expect(env).toMatchObject({
      TOPIC_LISTEN_EVENTS: 'p-listen-events',
      TABLE_NEIGHBOR_INDEX: 'p-neighbor-index',
      KAFKA_BROKERS: '127.0.0.1:1,127.0.0.1:2',
      KAFKA_AUTH: 'none',
      DYNAMODB_ENDPOINT: 'http://127.0.0.1:3',
      AWS_REGION: 'us-east-1',
    });
  });
});
