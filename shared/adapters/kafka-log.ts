/**
 * Where kafkajs's own log lines go. Without a log file (the cloud, tests, `npm run bench`) they go
 * to the console as kafkajs prints them. With one (`npm start`, soak, eval, chaos and fuzz set
 * KAFKA_CLIENT_LOG_FILE: `logKafkaClientsIn`) every line is appended to the file and the console
 * gets only what is worth a look: a broker that has just started, and topics and groups just
 * created, answer the first requests with retriable errors that kafkajs logs at ERROR and then
 * retries away — on a clean start that chatter read as if something broke.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type LogEntry, type logCreator, logLevel } from 'kafkajs';

/**
 * Retriable answers of a partition leader or group coordinator that is still being elected or
 * loaded (kafkajs's protocol error messages, codes 5, 6, 14, 15, 16); the requests are retried.
 */
export const WARM_UP_ERRORS: ReadonlySet<string> = new Set([
  'There is no leader for this topic-partition as we are in the middle of a leadership election',
  'This server is not the leader for that topic-partition',
  "The coordinator is loading and hence can't process requests for this group",
  'The group coordinator is not available',
  'This is not the correct coordinator for this group',
]);

/**
 * kafkajs warns once per idempotent producer whose retries are bounded; ours are on purpose
 * (PRODUCER_RETRY in kafka.ts says why), so the warning says nothing new.
 */
export const BOUNDED_RETRIES_WARNING = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** True for a log entry that is expected on a healthy cluster and needs no one's attention. */
export function isExpectedKafkaChatter({ namespace, level, log }: LogEntry): boolean {
  if (level === logLevel.WARN && namespace === 'Producer') return log.message === BOUNDED_RETRIES_WARNING;
  // The connection logs every failed response before its caller retries it.
  return namespace === 'Connection' && typeof log.error === 'string' && WARM_UP_ERRORS.has(log.error);
}

/** One line as kafkajs's console logger formats it. */
export function formatKafkaLogEntry({ namespace, label, log }: LogEntry): string {
  const prefix = namespace ? `[${namespace}] ` : '';
  return JSON.stringify({ level: label, ...log, message: `${prefix}${log.message}` });
}

function printToConsole(entry: LogEntry): void {
  const line = formatKafkaLogEntry(entry);
  if (entry.level === logLevel.ERROR) console.error(line);
  else if (entry.level === logLevel.WARN) console.warn(line);
  else console.log(line);
}

/** kafkajs's log creator: everything to `logFile` (when given), the console only what is not chatter. */
export function kafkaLogCreator(logFile: string | undefined): logCreator {
  return () => (entry) => {
    if (logFile) {
      try {
        appendFileSync(logFile, `${formatKafkaLogEntry(entry)}\n`);
        if (isExpectedKafkaChatter(entry)) return;
      } catch {
        // an unwritable log file must not hide the line: print it
      }
    }
    printToConsole(entry);
  };
}

/**
 * Sends kafkajs's lines to `<logDir>/kafkajs.log` (unless KAFKA_CLIENT_LOG_FILE already names a
 * file), for this process and the workers and child processes it starts, which inherit the
 * environment: what `npm start` and the local tools do before their first Kafka client. Returns
 * the file.
 */
export function logKafkaClientsIn(logDir: string): string {
  mkdirSync(logDir, { recursive: true });
  process.env.KAFKA_CLIENT_LOG_FILE ??= join(logDir, 'kafkajs.log');
  return process.env.KAFKA_CLIENT_LOG_FILE;
}
