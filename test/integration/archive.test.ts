/**
 * The raw event archive on the real broker: events POSTed through the local HTTP API land in the
 * archive directory under their event-time hour partitions, exactly once each even when the
 * archiver gets the same MSK event again, and `replay --source archive` reads them back in order.
 */
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { invokeFunction } from '../../local/runtime/functions.ts';
import { buildMskEvent, toMskRecord } from '../../local/runtime/msk-event.ts';
import { readTopic } from '../../tools/chaos/topic-reader.ts';
import { LoadStats } from '../../tools/loaders/lines.ts';
import { type ReplayRecord, records } from '../../tools/replay.ts';
import { checkedFetch } from '../support/contract.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const HOUR = 60 * 60 * 1000;
// Two different (past) hours; ingest rejects only future timestamps.
const HOUR_A = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
const HOUR_B = HOUR_A + HOUR;
const USER = 'archive-user';
const EVENTS = [
  { ts: HOUR_A + 60_000, id: 'a1' },
  { ts: HOUR_B + 5_000, id: 'b1' },
  { ts: HOUR_A + 120_000, id: 'a2' },
  { ts: HOUR_B + 9_000, id: 'b2' },
  { ts: HOUR_A + 180_000, id: 'a3' },
].map(({ ts, id }) => ({ eventId: `arch-${id}`, userId: USER, trackId: `trk-${id}`, ts, type: 'play' as const }));

/** `year=…/month=…/day=…/hour=…` computed independently of the code under test (via ISO strings). */
const partitionDir = (ts: number) => {
  const [y, m, d, h] = new Date(ts).toISOString().split(/[-T:]/);
  return `year=${y}/month=${m}/day=${d}/hour=${h}`;
};

/** Every archive file (relative path → content). */
async function archiveContents(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const e of entries)
    if (e.isFile()) {
      const file = join(e.parentPath, e.name);
      out.set(relative(dir, file), await readFile(file, 'utf8'));
    }
  return out;
}

const linesOf = (files: Map<string, string>) =>
  [...files.values()].flatMap((c) =>
    c
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { eventId: string; _offset: number }),
  );

describe('event archive', () => {
  let t: Awaited<ReturnType<typeof provisionedTestEnv>>;
  let pipeline: LocalPipeline;
  const dir = mkdtempSync(join(tmpdir(), 'tunestream-archive-'));

  beforeAll(async () => {
    // Before the pipeline starts: the runtime loads the handlers into this process.
    process.env.ARCHIVE_DIR = dir;
    t = await provisionedTestEnv('archive');
    pipeline = await startTestPipeline(t, {
      // One POST, one key → one partition and one produce request; a roomy window keeps it one batch.
      batchingWindowMs: 500,
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
    delete process.env.ARCHIVE_DIR;
  });

  it('archives each event under its event-time hour, once, even when a batch is redelivered', async () => {
    const res = await checkedFetch(pipeline.url, '/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: EVENTS }),
    });
    expect(res.status).toBe(202);

    const first = await eventually(
      async () => {
        const files = await archiveContents(dir);
        return linesOf(files).length === EVENTS.length ? files : undefined;
      },
      { what: 'all events archived' },
    );
    const topic = t.topology.topicNames.listenEvents;
    const byDir = new Map<string, string[]>();
    for (const [path, content] of first) {
      const d = path.slice(0, path.lastIndexOf('/'));
      expect(path.slice(d.length + 1)).toMatch(new RegExp(`^${topic}-\\d+-\\d+-\\d+\\.jsonl$`));
      byDir.set(d, [...(byDir.get(d) ?? []), ...linesOf(new Map([[path, content]])).map((e) => e.eventId)]);
    }
    expect([...byDir.keys()].sort()).toEqual([partitionDir(HOUR_A), partitionDir(HOUR_B)]);
    expect(byDir.get(partitionDir(HOUR_A))?.sort()).toEqual(['arch-a1', 'arch-a2', 'arch-a3']);
    expect(byDir.get(partitionDir(HOUR_B))?.sort()).toEqual(['arch-b1', 'arch-b2']);
    // Each line is the validated event plus its Kafka offset.
    const a1 = linesOf(first).find((e) => e.eventId === 'arch-a1');
    expect(a1).toMatchObject({ ...EVENTS[0], v: 1, _offset: expect.any(Number) });

    // Redeliver: the very records the trigger consumed, as one MSK event, twice.
    const consumed = (await readTopic(t.kafka(), topic)).filter((r) => r.message.key?.toString() === USER);
    expect(consumed).toHaveLength(EVENTS.length);
    const event = buildMskEvent(
      consumed.map((r) => toMskRecord(r.topic, r.partition, r.message)),
      { eventSourceArn: 'arn:aws:kafka:us-east-1:000000000000:cluster/local/test', bootstrapServers: '' },
    );
    expect(await invokeFunction('event-archiver', event)).toMatchObject({ valid: 5, archiveObjects: 2 });
    await invokeFunction('event-archiver', event);
    const after = await archiveContents(dir);
    expect(after).toEqual(first);
    expect(
      linesOf(after)
        .map((e) => e.eventId)
        .sort(),
    ).toEqual(EVENTS.map((e) => e.eventId).sort());
  });

  it('replay --source archive reads the events back in event-time-hour order, archive metadata stripped', async () => {
    const out: ReplayRecord[] = [];
    for await (const r of records('archive', dir, new LoadStats(false))) out.push(r);
    const events = out.map((r) => (r.kind === 'event' ? r.event : undefined));
    expect(events.map((e) => e?.eventId)).toEqual(['arch-a1', 'arch-a2', 'arch-a3', 'arch-b1', 'arch-b2']);
    expect(events[0]).toEqual({ ...EVENTS[0], v: 1 });
  });
});
