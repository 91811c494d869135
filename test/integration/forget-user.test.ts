/**
 * DELETE /users/{userId}: the profile, neighbour list, index entry and tokens go; other listeners'
 * lists drop the user when read; the deletion is recorded (users table, archive tombstone that
 * archive replays honour); a second call is a no-op.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { archiveFromEnv } from '../../shared/adapters/archive.ts';
import { createToken, type UsersStore } from '../../shared/adapters/dynamodb/users.ts';
import { archiveEvents } from '../../tools/loaders/archive.ts';
import { LoadStats } from '../../tools/loaders/lines.ts';
import { checkedFetch } from '../support/contract.ts';
import { eventually, provisionedTestEnv, startTestPipeline, type TestEnv } from '../support/infra.ts';

const BEARER = 'forget-test-bearer-0123456789';

describe('forgetting a listener', () => {
  let t: TestEnv;
  let pipeline: LocalPipeline;
  let users: UsersStore;
  let token: string;
  const archiveDir = mkdtempSync(join(tmpdir(), 'tunestream-forget-'));

  const api = async (method: string, path: string, body?: unknown, auth = `Bearer ${BEARER}`) => {
    const res = await checkedFetch(pipeline.url, path, {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: res.body as Record<string, unknown> };
  };
  const neighborsOf = async (userId: string) =>
    ((await api('GET', `/users/${userId}/neighbors`)).body.neighbors ?? []) as { userId: string }[];

  beforeAll(async () => {
    t = await provisionedTestEnv('forget');
    process.env.ARCHIVE_DIR = archiveDir;
    pipeline = await startTestPipeline(t, { authToken: BEARER, userTokenCacheSeconds: 0 });
    users = { client: t.documentClient(), table: t.topology.tableNames.users };
    token = await createToken(users, 'fg-ann');
    const now = Date.now();
    const events = ['fg-ann', 'fg-ben', 'fg-cat'].flatMap((userId) =>
      ['art-a', 'art-b', 'art-c'].map((artistId, i) => ({ userId, artistId, ts: now - 1000 * (i + 1), type: 'play' })),
    );
    expect((await api('POST', '/events', { events })).status).toBe(202);
    await eventually(
      async () => ((await neighborsOf('fg-ben')).some((n) => n.userId === 'fg-ann') ? true : undefined),
      { what: 'ann among ben’s neighbours' },
    );
    // The archiver has written the listens.
    await eventually(
      async () => {
        const stats = new LoadStats(false);
        let n = 0;
        for await (const _ of archiveEvents(archiveDir, { stats })) n++;
        return n >= 9 ? true : undefined;
      },
      { what: 'archive' },
    );
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('deletes the per-user items, records the deletion, and is idempotent', async () => {
    const first = await api('DELETE', '/users/fg-ann');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      userId: 'fg-ann',
      deleted: { profile: true, neighbors: true, candidates: true, indexEntry: true, userItems: 1, servedLists: 0 },
    });
    expect((await api('GET', '/users/fg-ann/profile')).status).toBe(404);
    expect((await api('GET', '/users/fg-ann/neighbors')).status).toBe(404);
    // Gone from the index, and from ben's list as it is read.
    const index = await t.documentClient().send(new ScanCommand({ TableName: t.topology.tableNames.neighborIndex }));
    expect((index.Items ?? []).some((i) => i.userId === 'fg-ann')).toBe(false);
    expect((await neighborsOf('fg-ben')).map((n) => n.userId)).not.toContain('fg-ann');
    // The token no longer works.
    const v = await checkedFetch(pipeline.url, '/1/validate-token', { headers: { authorization: `Token ${token}` } });
    expect(v.body.valid).toBe(false);
    // Recorded: a tombstone in the users table, and one the archive replay honours.
    const items = await users.client.send(
      new QueryCommand({
        TableName: users.table,
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': 'fg-ann' },
      }),
    );
    expect(items.Items).toEqual([{ userId: 'fg-ann', sk: 'deleted', deletedAt: first.body.deletedAt }]);
    expect(archiveFromEnv().location).toBe(archiveDir);
    const replayed: string[] = [];
    for await (const e of archiveEvents(archiveDir, { stats: new LoadStats(false) })) replayed.push(e.userId);
    expect(replayed).not.toContain('fg-ann');
    expect(replayed.filter((u) => u === 'fg-ben')).toHaveLength(3);

    const again = await api('DELETE', '/users/fg-ann');
    expect(again).toEqual({
      status: 200,
      body: {
        userId: 'fg-ann',
        deletedAt: first.body.deletedAt,
        deleted: {
          profile: false,
          neighbors: false,
          candidates: false,
          indexEntry: false,
          userItems: 0,
          servedLists: 0,
        },
      },
    });
  });

  it('needs the admin credentials, not a listener token', async () => {
    const other = await createToken(users, 'fg-cat');
    expect((await api('DELETE', '/users/fg-cat', undefined, `Token ${other}`)).status).toBe(401);
    expect((await api('GET', '/users/fg-cat/profile')).status).toBe(200);
  });
});
