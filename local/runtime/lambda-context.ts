/**
 * The `Context` object Lambda passes to a handler, with the values a deployed function would see
 * (ARN, log group/stream, memory, a deadline from the configured timeout).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { type FunctionName, functions } from '../../shared/topology.ts';
import { LOCAL_ACCOUNT_ID } from './msk-event.ts';

export interface LambdaContextOptions {
  /** The function's physical name (defaults to the topology name). */
  functionName?: string;
  memoryMb?: number;
  timeoutSeconds?: number;
  region?: string;
  accountId?: string;
  awsRequestId?: string;
  /** Invocation start (ms epoch); the deadline is start + timeout. */
  startedAt?: number;
}

export function createLambdaContext(name: FunctionName, opts: LambdaContextOptions = {}): Context {
  const spec = functions[name];
  const functionName = opts.functionName ?? name;
  const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const timeoutMs = (opts.timeoutSeconds ?? spec.timeoutSeconds) * 1000;
  const deadline = (opts.startedAt ?? Date.now()) + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '/');
  const legacy = () => {
    throw new Error('context.done/fail/succeed are not supported: return a value or a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${opts.accountId ?? LOCAL_ACCOUNT_ID}:function:${functionName}`,
    memoryLimitInMB: String(opts.memoryMb ?? spec.memoryMb),
    awsRequestId: opts.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: legacy,
    fail: legacy,
    succeed: legacy,
  };
}
