/** kafkajs's log lines: expected warm-up chatter goes to the log file only, the rest to the console too. */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LogEntry, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BOUNDED_RETRIES_WARNING,
  isExpectedKafkaChatter,
  kafkaLogCreator,
  logKafkaClientsIn,
  WARM_UP_ERRORS,
} from '../../../shared/adapters/kafka-log.ts';

// Lines as a clean `npm start` logged them.
const notLeader: LogEntry = {
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: {
    timestamp: '2026-12-02T03:51:16.738Z',
    message: 'Response ListOffsets(key: 2, version: 3)',
    broker: '127.0.0.1:39097',
    clientId: 'tunestream-provision',
    error: 'This server is not the leader for that topic-partition',
    correlationId: 11,
    size: 163,
  },
};
const coordinatorLoading: LogEntry = {
  ...notLeader,
  log: { ...notLeader.log, error: "The coordinator is loading and hence can't process requests for this group" },
};
const eosWarning: LogEntry = {
  namespace: 'Producer',
  level: logLevel.WARN,
  label: 'WARN',
  log: { timestamp: '2026-12-02T03:51:19.396Z', message: BOUNDED_RETRIES_WARNING },
};
const sendFailed: LogEntry = {
  namespace: 'Producer',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: { timestamp: '2026-12-02T03:51:20.000Z', message: 'Failed to send messages: Connection timeout' },
};
const authFailed: LogEntry = { ...notLeader, log: { ...notLeader.log, error: 'SASL Authentication failed' } };

describe('isExpectedKafkaChatter', () => {
  it('is true for warm-up answers of the broker and the bounded-retries warning', () => {
    expect(isExpectedKafkaChatter(notLeader)).toBe(true);
    expect(isExpectedKafkaChatter(coordinatorLoading)).toBe(true);
    expect(isExpectedKafkaChatter(eosWarning)).toBe(true);
  });

  it('is false for anything else', () => {
    expect(isExpectedKafkaChatter(sendFailed)).toBe(false);
    expect(isExpectedKafkaChatter(authFailed)).toBe(false);
    // the same error text outside a connection's response log is a caller giving up
    expect(isExpectedKafkaChatter({ ...notLeader, namespace: 'Producer' })).toBe(false);
  });

  it("names kafkajs's own retriable protocol errors, word for word", () => {
    const { errorCodes } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
      errorCodes: { code: number; message: string; retriable: boolean }[];
    };
    for (const message of WARM_UP_ERRORS) {
      const known = errorCodes.find((e) => e.message === message);
      expect(known, message).toBeDefined();
      expect(known!.retriable).toBe(true);
    }
  });
});

describe('kafkaLogCreator', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes every line to the file and prints only what is not chatter', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kafka-log-')), 'kafkajs.log');
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = kafkaLogCreator(file)(logLevel.WARN);
    for (const entry of [notLeader, eosWarning, sendFailed]) log(entry);
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message)).toEqual([
      '[Connection] Response ListOffsets(key: 2, version: 3)',
      `[Producer] ${BOUNDED_RETRIES_WARNING}`,
      '[Producer] Failed to send messages: Connection timeout',
    ]);
    expect(lines[0]).toMatchObject({ level: 'ERROR', error: notLeader.log.error, clientId: 'tunestream-provision' });
    expect(warn).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(1);
    expect(JSON.parse(error.mock.calls[0]![0] as string).message).toBe(
      '[Producer] Failed to send messages: Connection timeout',
    );
  });

  it('prints everything, as kafkajs does, without a file', () => {
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const log = kafkaLogCreator(undefined)(logLevel.WARN);
    for (const entry of [notLeader, eosWarning]) log(entry);
    expect(error).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });
});

describe('logKafkaClientsIn', () => {
  // The tools call it before their first Kafka client; the variable is what their workers and children inherit.
  afterEach(() => vi.unstubAllEnvs());

  it("points KAFKA_CLIENT_LOG_FILE at kafkajs.log in the tool's log directory, creating it", () => {
    vi.stubEnv('KAFKA_CLIENT_LOG_FILE', undefined);
    const dir = join(mkdtempSync(join(tmpdir(), 'kafka-log-')), 'soak-logs');
    expect(logKafkaClientsIn(dir)).toBe(join(dir, 'kafkajs.log'));
    expect(process.env.KAFKA_CLIENT_LOG_FILE).toBe(join(dir, 'kafkajs.log'));
    expect(existsSync(dir)).toBe(true);
  });

  it('keeps a file the caller chose', () => {
    const chosen = join(tmpdir(), 'chosen-kafkajs.log');
    vi.stubEnv('KAFKA_CLIENT_LOG_FILE', chosen);
    expect(logKafkaClientsIn(mkdtempSync(join(tmpdir(), 'kafka-log-')))).toBe(chosen);
  });
});
