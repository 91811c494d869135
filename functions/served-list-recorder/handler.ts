/**
 * The read API's log subscription → `served-lists`. CloudWatch Logs delivers the matching lines
 * (`{"served": …}`, topology `logSubscriptions`) gzipped and base64-encoded; each becomes one
 * record keyed by listener, so a listener's lists keep their order. A line that does not parse is
 * dead-lettered with its reason; the others are produced. A failed produce fails the invocation,
 * and the asynchronous invoke retries it: a list may then be produced twice, which the attributor
 * tells apart (same recommendationId from another offset).
 *
 * @producesTo served-lists dead-letters
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData, CloudWatchLogsEvent, Context } from 'aws-lambda';
import {
  produce,
  publishDeadLetters,
  TRIGGER_PRODUCE_DEADLINE_MS,
  topicsFromEnv,
} from '../../shared/adapters/kafka.ts';
import { deadLetterOf } from '../../shared/domain/events/events.ts';
import {
  SERVED_LIST_FIELD,
  ServedLine,
  type ServedListV1,
  servedListOfLine,
} from '../../shared/domain/experiments/served-list.ts';
import { formatZodIssues } from '../../shared/handlers/field-issues.ts';
import { MetricUnit, observability, wrap } from '../../shared/handlers/observability.ts';

const FUNCTION_NAME = 'served-list-recorder';
const tools = observability(FUNCTION_NAME);

/** The payload CloudWatch Logs sends a subscribed function. */
export function decodeLogsEvent(event: CloudWatchLogsEvent): CloudWatchLogsDecodedData {
  return JSON.parse(
    gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'),
  ) as CloudWatchLogsDecodedData;
}

/** A line's served list, or why not. */
export function parseServedLine(message: string): { list: ServedListV1 } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch (err) {
    return { error: `invalid-json: ${(err as Error).message}` };
  }
  const value = (parsed as Record<string, unknown> | null)?.[SERVED_LIST_FIELD];
  const result = ServedLine.safeParse(value);
  if (!result.success)
    return {
      error: `invalid-schema: ${formatZodIssues(result.error, SERVED_LIST_FIELD)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ')}`,
    };
  return { list: servedListOfLine(result.data) };
}

export async function recordServedLists(event: CloudWatchLogsEvent) {
  const data = decodeLogsEvent(event);
  if (data.messageType !== 'DATA_MESSAGE') return { lines: 0, produced: 0, rejected: 0 }; // CONTROL_MESSAGE: a subscription check
  const topics = topicsFromEnv();
  const messages = [];
  const rejected = [];
  for (const [i, e] of data.logEvents.entries()) {
    const got = parseServedLine(e.message);
    if ('list' in got)
      messages.push({ key: got.list.userId, value: JSON.stringify(got.list), timestamp: String(got.list.ts) });
    else
      rejected.push(
        deadLetterOf(
          {
            topic: `logs:${data.logGroup}`,
            partition: 0,
            offset: i,
            valueBase64: Buffer.from(e.message).toString('base64'),
          },
          got.error.slice(0, got.error.indexOf(':')),
          got.error,
          FUNCTION_NAME,
          Date.now(),
        ),
      );
  }
  await produce(topics.servedLists, messages, TRIGGER_PRODUCE_DEADLINE_MS);
  if (rejected.length > 0) {
    await publishDeadLetters(topics.deadLetters, rejected);
    tools.metrics.addMetric('DeadLettered', MetricUnit.Count, rejected.length);
    tools.logger.warn('served-list lines dead-lettered', { count: rejected.length, first: rejected[0]?.error });
  }
  tools.metrics.addMetric('ServedListsRecorded', MetricUnit.Count, messages.length);
  return { lines: data.logEvents.length, produced: messages.length, rejected: rejected.length };
}

export const handler = wrap((event: CloudWatchLogsEvent, _context: Context) => recordServedLists(event), tools);
