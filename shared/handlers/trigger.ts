/**
 * The shared skeleton of a Kafka-triggered handler: decode the MSK event, validate each record
 * (bad ones become dead letters), run the function's work on the valid ones, then publish the dead
 * letters. If the work throws, the whole batch fails and the event source mapping retries it —
 * the work is idempotent, so a retry changes nothing that was already applied.
 */
import type { MSKEvent } from 'aws-lambda';
import type { z } from 'zod';
import { type DecodedRecord, decodeMskEvent, publishDeadLetters, topicsFromEnv } from '../adapters/kafka.ts';
import { type ResolvedSettings, resolveSettings } from '../topology.ts';
import { MetricUnit, type observability } from './observability.ts';
import { type ValidRecord, validateRecords } from './records.ts';

export interface TriggerSummary {
  records: number;
  valid: number;
  deadLettered: number;
  [key: string]: number;
}

export async function runTrigger<S extends z.ZodType>(
  event: MSKEvent,
  opts: {
    functionName: string;
    schema: S;
    tools: ReturnType<typeof observability>;
    work: (
      valid: ValidRecord<z.infer<S>>[],
      all: DecodedRecord[],
      settings: ResolvedSettings,
    ) => Promise<Record<string, number>>;
  },
): Promise<TriggerSummary> {
  const settings = resolveSettings();
  const deadLetterTopic = topicsFromEnv().deadLetters;
  const records = decodeMskEvent(event);
  const { valid, deadLetters } = validateRecords(records, opts.schema, {
    maxBytes: settings.MAX_RECORD_BYTES,
    functionName: opts.functionName,
  });
  const extra = valid.length > 0 ? await opts.work(valid, records, settings) : {};
  if (deadLetters.length > 0) {
    await publishDeadLetters(deadLetterTopic, deadLetters);
    opts.tools.metrics.addMetric('DeadLettered', MetricUnit.Count, deadLetters.length);
    for (const d of deadLetters) {
      opts.tools.logger.warn('record dead-lettered', {
        reason: d.reason,
        error: d.error,
        sourceTopic: d.sourceTopic,
        partition: d.partition,
        offset: d.offset,
      });
    }
  }
  opts.tools.metrics.addMetric('RecordsProcessed', MetricUnit.Count, records.length);
  const summary = { records: records.length, valid: valid.length, deadLettered: deadLetters.length, ...extra };
  opts.tools.logger.info('batch done', summary);
  return summary;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
