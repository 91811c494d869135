/**
 * Powertools logger and metrics for every function, wired through middy. Service name, log level
 * and metrics namespace come from the standard POWERTOOLS_* env vars (set by the CDK stack; the
 * local runtime sets them too).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';

export { MetricUnit };

export function observability(functionName: string) {
  const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? functionName });
  const metrics = new Metrics({
    // Invocations without business metrics (a GET, an empty batch) are normal: not a warning.
    logger: {
      trace: (...a: unknown[]) => logger.trace(String(a[0]), ...(a.slice(1) as [])),
      debug: (...a: unknown[]) => logger.debug(String(a[0]), ...(a.slice(1) as [])),
      info: (...a: unknown[]) => logger.info(String(a[0]), ...(a.slice(1) as [])),
      warn: (...a: unknown[]) =>
        String(a[0]).startsWith('No application metrics')
          ? logger.debug(String(a[0]))
          : logger.warn(String(a[0]), ...(a.slice(1) as [])),
      error: (...a: unknown[]) => logger.error(String(a[0]), ...(a.slice(1) as [])),
    },
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'tunestream',
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? functionName,
    defaultDimensions: { function: functionName },
  });
  return { logger, metrics };
}

/** Wraps a handler with context-aware logging and metric flushing. */
export function wrap<E, R>(
  fn: (event: E, context: Context) => Promise<R>,
  tools: { logger: Logger; metrics: Metrics },
) {
  return middy(fn)
    .use(injectLambdaContext(tools.logger, { resetKeys: true }))
    .use(logMetrics(tools.metrics, { throwOnEmptyMetrics: false }));
}
