import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeLogsEvent, parseServedLine } from '../../../functions/served-list-recorder/handler.ts';
import { newRecommendationId } from '../../../shared/domain/experiments/recommendation-id.ts';
import { fingerprintItems, type ServedListV1, servedListLine } from '../../../shared/domain/experiments/served-list.ts';

const T = Date.UTC(2026, 11, 5, 9);
const list: ServedListV1 = {
  v: 1,
  id: newRecommendationId(T),
  userId: 'demo-ana',
  route: 'radio',
  kind: 'track',
  variant: 'control',
  strategy: 'session',
  ts: T,
  items: ['t1', 't2', 't3'],
};

describe('served-list recorder', () => {
  it('a served-list line reads back as the list it was written from: time from the id, items as fingerprints', () => {
    const line = servedListLine(list);
    expect(line.endsWith('\n')).toBe(true);
    const { items, ...rest } = list;
    expect(parseServedLine(line.trim())).toEqual({ list: { ...rest, fingerprints: fingerprintItems(items!) } });
    // 8 characters an item whatever its id's length: a 41-character MusicBrainz id costs no more.
    const long = servedListLine({
      ...list,
      items: list.items!.map((i) => `mbid:00000000-0000-0000-0000-00000000000${i}`),
    });
    expect(long.length).toBe(line.length);
  });

  it('names what is wrong with a line', () => {
    expect(parseServedLine('{oops')).toMatchObject({ error: expect.stringMatching(/^invalid-json/) });
    const bad = parseServedLine(
      JSON.stringify({ served: { v: 1, id: 'nope', u: 'x', r: 'radio', k: 'track', x: 'c', s: 's', i: [] } }),
    );
    expect(bad).toMatchObject({ error: expect.stringMatching(/^invalid-schema: served\.id/) });
  });

  it("decodes CloudWatch Logs' subscription payload", () => {
    const payload = {
      messageType: 'DATA_MESSAGE',
      logGroup: '/aws/lambda/x',
      logEvents: [{ id: '1', timestamp: T, message: 'hi' }],
    };
    const event = { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
    expect(decodeLogsEvent(event)).toEqual(payload);
  });
});
