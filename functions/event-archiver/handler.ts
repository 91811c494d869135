/**
 * Trigger on `listen-events` → the raw event archive (bronze layer). Each batch's valid events are
 * grouped by (event-time hour partition, topic-partition) and written as one JSON-lines object per
 * group, named by its first and last offset: a redelivered batch rewrites the same keys instead of
 * duplicating events. Invalid records are dead-lettered by runTrigger, never archived.
 *
 * @triggeredBy listen-events
 * @producesTo dead-letters
 */
import type { Context, MSKEvent } from 'aws-lambda';
import { archiveFromEnv } from '../../shared/adapters/archive.ts';
import { groupForArchive } from '../../shared/domain/events/archive.ts';
import { ListenEventV1 } from '../../shared/domain/events/events.ts';
import { observability, wrap } from '../../shared/handlers/observability.ts';
import { forEachLimit, runTrigger } from '../../shared/handlers/trigger.ts';

const FUNCTION_NAME = 'event-archiver';
const tools = observability(FUNCTION_NAME);

export async function archiveEvents(event: MSKEvent) {
  return runTrigger(event, {
    functionName: FUNCTION_NAME,
    schema: ListenEventV1,
    tools,
    work: async (valid) => {
      const store = archiveFromEnv();
      const groups = groupForArchive(
        valid.map(({ record, value }) => ({
          topic: record.topic,
          partition: record.partition,
          offset: record.offset,
          ts: value.ts,
          value,
        })),
      );
      // A failed put fails the batch; the retry rewrites every key of it (same names, same content).
      await forEachLimit(groups, 8, async (g) => {
        const body = g.items.map((i) => `${JSON.stringify({ ...i.value, _offset: i.offset })}\n`).join('');
        await store.writeObject(g.key, body);
      });
      return { archiveObjects: groups.length, archived: valid.length };
    },
  });
}

export const handler = wrap((event: MSKEvent, _context: Context) => archiveEvents(event), tools);
