/**
 * Turning a trigger's Kafka records into validated values. A record that cannot be decoded,
 * parsed or validated becomes a dead letter with its reason and coordinates, and processing
 * goes on: one bad record never blocks its partition.
 */
import type { z } from 'zod';
import { type DeadLetter, type DecodedRecord, toDeadLetter } from '../adapters/kafka.ts';
import { formatZodIssues } from './field-issues.ts';

export interface ValidRecord<T> {
  record: DecodedRecord;
  value: T;
}

export interface Validated<T> {
  valid: ValidRecord<T>[];
  deadLetters: DeadLetter[];
}

export function validateRecords<S extends z.ZodType>(
  records: readonly DecodedRecord[],
  schema: S,
  opts: { maxBytes: number; functionName: string },
): Validated<z.infer<S>> {
  const valid: ValidRecord<z.infer<S>>[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const record of records) {
    if (record.value.length > opts.maxBytes) {
      deadLetters.push(
        toDeadLetter(
          record,
          'too-large',
          `value is ${record.value.length} bytes; limit ${opts.maxBytes}`,
          opts.functionName,
        ),
      );
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(record.value));
    } catch (err) {
      deadLetters.push(toDeadLetter(record, 'invalid-json', (err as Error).message, opts.functionName));
      continue;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      const issues = formatZodIssues(result.error)
        .map((i) => `${i.path}: ${i.message}`)
        .join('; ');
      deadLetters.push(toDeadLetter(record, 'invalid-schema', issues, opts.functionName));
      continue;
    }
    valid.push({ record, value: result.data });
  }
  return { valid, deadLetters };
}
