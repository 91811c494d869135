/**
 * Replay end to end on the real broker and DynamoDB Local: a generated Last.fm directory goes
 * through the HTTP API (catalog + events) into profiles; replaying the same data again straight
 * onto Kafka changes nothing (deterministic event ids, idempotent profile writes).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { eventsPerPair } from '../../tools/loaders/lastfm.ts';
import { LoadStats } from '../../tools/loaders/lines.ts';
import { httpSender, kafkaSender, records, replay } from '../../tools/replay.ts';
import { checkedFetch } from '../support/contract.ts';
import { eventually, provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
const PAIRS: [string, string, number][] = [
  ['7', '1', 1000],
  ['7', '2', 3],
  ['8', '2', 40],
  ['8', '3', 1],
];

function lastfmDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'replay-lastfm-'));
  writeFileSync(
    join(dir, 'artists.dat'),
    crlf(['id\tname\turl\tpictureURL', '1\tBjörk\tu\tp', '2\tMotörhead\tu\tp', '3\tNina Simone\tu\tp']),
  );
  writeFileSync(
    join(dir, 'tags.dat'),
    Buffer.from(crlf(['tagID\ttagValue', '1\telectronic', '2\theavy metal', '3\tjazz']), 'latin1'),
  );
  writeFileSync(
    join(dir, 'user_taggedartists.dat'),
    crlf([
      'userID\tartistID\ttagID\tday\tmonth\tyear',
      '7\t1\t1\t1\t4\t2009',
      '7\t2\t2\t1\t6\t2009',
      '8\t3\t3\t1\t1\t2010',
    ]),
  );
  writeFileSync(join(dir, 'user_artists.dat'), crlf(['userID\tartistID\tweight', ...PAIRS.map((p) => p.join('\t'))]));
  return dir;
}

describe('replay', () => {
  let t: Awaited<ReturnType<typeof provisionedTestEnv>>;
  let pipeline: LocalPipeline;
  const dir = lastfmDir();
  const eventsOf = (u: string) => PAIRS.filter((p) => p[0] === u).reduce((n, p) => n + eventsPerPair(p[2]), 0);

  beforeAll(async () => {
    t = await provisionedTestEnv('replay');
    pipeline = await startTestPipeline(t);
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  const profile = async (u: string) => {
    const r = await checkedFetch(pipeline.url, `/users/lastfm-${u}/profile`);
    return r.status === 200 ? (r.body as { counts: { events: number }; version: number }) : undefined;
  };

  it('feeds a Last.fm directory through the HTTP API into profiles, and a Kafka re-replay is a no-op', async () => {
    const total = PAIRS.reduce((n, p) => n + eventsPerPair(p[2]), 0) + 3;
    const progress: string[] = [];
    const sum = await replay(records('lastfm', dir, new LoadStats(false)), httpSender(pipeline.url, 'unused-locally'), {
      rate: 0,
      batchSize: 5,
      onProgress: (l) => progress.push(l),
    });
    expect(sum).toMatchObject({ sent: total, accepted: total, rejected: 0 });

    for (const u of ['7', '8'])
      await eventually(async () => ((await profile(u))?.counts.events === eventsOf(u) ? true : undefined), {
        what: `profile lastfm-${u}`,
      });
    const before = await profile('7');

    const producer = t.kafka().producer({ idempotent: true, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const again = await replay(records('lastfm', dir, new LoadStats(false)), kafkaSender(producer, t.prefix), {
        rate: 0,
      });
      expect(again).toMatchObject({ sent: total, accepted: total, rejected: 0 });
    } finally {
      await producer.disconnect();
    }
    // A marker event after the re-replay: once it is folded in, the redelivered ones were seen too
    // (same partition, key = userId), and only the marker may have added to the counts.
    const marker = {
      eventId: 'marker-7',
      userId: 'lastfm-7',
      artistId: 'lastfm-a3',
      ts: Date.UTC(2009, 5, 2),
      type: 'play',
    };
    const res = await checkedFetch(pipeline.url, '/events', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: [marker] }),
    });
    expect(res.status).toBe(202);
    const after = await eventually(
      async () => {
        const p = await profile('7');
        return p && p.version > before!.version ? p : undefined;
      },
      { what: 'marker applied' },
    );
    expect(after.counts.events).toBe(eventsOf('7') + 1);
  });
});
