/**
 * Loading and invoking the project's Lambda handlers in-process, the way the Lambda Node.js runtime
 * does: env first (handlers read their resource names at import), then `handler(event, context,
 * callback)` under the function's configured timeout.
 */
import type { Callback, Context } from 'aws-lambda';
import {
  type FunctionName,
  type FunctionSpec,
  functions,
  type ResolvedTopology,
  resolveSettings,
  resourceEnv,
} from '../../shared/topology.ts';
import { createLambdaContext, type LambdaContextOptions } from './lambda-context.ts';
import { type LogLine, silentLog } from './log.ts';
import { invocationScope } from './log-subscriptions.ts';

export type LambdaHandler = (event: unknown, context: Context, callback: Callback) => unknown;

export class LambdaTimeoutError extends Error {
  override name = 'LambdaTimeoutError';
}

export const functionNames = Object.keys(functions) as FunctionName[];

export function isFunctionName(name: string): name is FunctionName {
  return (functionNames as string[]).includes(name);
}

export interface FunctionEnvOptions {
  topology: ResolvedTopology;
  kafkaBrokers: readonly string[];
  dynamodbEndpoint: string;
  region?: string;
}

/** What every function finds in its environment locally: resource names, endpoints, region. */
export function functionEnv(opts: FunctionEnvOptions): Record<string, string> {
  return {
    ...resourceEnv(opts.topology),
    KAFKA_BROKERS: opts.kafkaBrokers.join(','),
    KAFKA_AUTH: 'none',
    DYNAMODB_ENDPOINT: opts.dynamodbEndpoint,
    AWS_REGION: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
  };
}

/**
 * Sets the env in this process. All functions share one process locally, so only shared values
 * belong here (not per-function ones like AWS_LAMBDA_FUNCTION_NAME). Validates setting overrides
 * early, as a deploy would.
 */
export function applyFunctionEnv(env: Record<string, string>): void {
  Object.assign(process.env, env);
  resolveSettings(process.env);
}

const loaded = new Map<FunctionName, Promise<LambdaHandler>>();

/** Imports `functions/<name>/handler.ts` (or the function's `localHandler`) once (like a warm container) and returns its `handler`. */
export function loadHandler(name: FunctionName): Promise<LambdaHandler> {
  if (!isFunctionName(name)) return Promise.reject(new Error(`unknown function ${JSON.stringify(name)}`));
  let pending = loaded.get(name);
  if (!pending) {
    const file: string = (functions[name] as FunctionSpec).localHandler ?? `functions/${name}/handler.ts`;
    pending = import(new URL(`../../${file}`, import.meta.url).href).then((mod: { handler?: unknown }) => {
      if (typeof mod.handler !== 'function') throw new Error(`${file} does not export a handler`);
      return mod.handler as LambdaHandler;
    });
    // A failed import is not cached: the next invocation tries again (after a fix, under tsx watch).
    pending.catch(() => loaded.delete(name));
    loaded.set(name, pending);
  }
  return pending;
}

export interface InvokeOptions extends LambdaContextOptions {
  /** START/END/REPORT lines as in CloudWatch. */
  log?: LogLine;
}

/**
 * Calls a handler like the Lambda runtime: async result or callback, whichever comes first, bounded
 * by the function's timeout. A timeout rejects; the handler's work cannot be cancelled in-process.
 */
export function invokeHandler(
  handler: LambdaHandler,
  name: FunctionName,
  event: unknown,
  opts: InvokeOptions = {},
): Promise<unknown> {
  const log = opts.log ?? silentLog;
  const startedAt = Date.now();
  const timeoutSeconds = opts.timeoutSeconds ?? functions[name].timeoutSeconds;
  const context = createLambdaContext(name, { ...opts, startedAt, timeoutSeconds });
  const requestId = context.awsRequestId;
  log(`START RequestId: ${requestId} Version: $LATEST (${name})`);
  return new Promise<unknown>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown, value?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      log(`END RequestId: ${requestId}`);
      log(`REPORT RequestId: ${requestId} Duration: ${(Date.now() - startedAt).toFixed(2)} ms${err ? ' (error)' : ''}`);
      if (err) reject(err instanceof Error ? err : new Error(typeof err === 'string' ? err : JSON.stringify(err)));
      else resolve(value);
    };
    const timer = setTimeout(
      () => finish(new LambdaTimeoutError(`Task timed out after ${timeoutSeconds.toFixed(2)} seconds`)),
      timeoutSeconds * 1000,
    );
    try {
      // The scope tells the log subscriptions whose output a line is.
      const out = invocationScope.run({ fn: name }, () =>
        handler(event, context, (err, value) => finish(err ?? undefined, value)),
      );
      if (out && typeof (out as PromiseLike<unknown>).then === 'function') {
        (out as PromiseLike<unknown>).then(
          (value) => finish(undefined, value),
          (err: unknown) => finish(err ?? new Error('handler rejected')),
        );
      }
    } catch (err) {
      finish(err);
    }
  });
}

/** Loads (once) and invokes a project function with a fresh context. */
export async function invokeFunction(name: FunctionName, event: unknown, opts: InvokeOptions = {}): Promise<unknown> {
  return invokeHandler(await loadHandler(name), name, event, opts);
}
