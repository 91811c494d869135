/**
 * Locally every API route needs the bearer token (the cloud uses IAM on every route and an optional
 * JWT authorizer on reads — asserted on the template in test/cdk/stack.test.ts). Also the HTTP
 * edges the runtime answers itself: unknown route, wrong method, content type, body size.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalPipeline } from '../../local/pipeline.ts';
import { routes, settings } from '../../shared/topology.ts';
import { checkedFetch } from '../support/contract.ts';
import { provisionedTestEnv, startTestPipeline } from '../support/infra.ts';

const TOKEN = 'test-token-0123456789abcdef';

describe('bearer-token auth on the local HTTP API', () => {
  let pipeline: LocalPipeline;
  const call = async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: string,
    outsideContract?: string,
  ) => checkedFetch(pipeline.url, path, { method, headers, body, outsideContract });
  const good = { authorization: `Bearer ${TOKEN}` };
  const event = JSON.stringify({ userId: 'auth-user', artistId: 'art-x', ts: Date.now(), type: 'play' });

  beforeAll(async () => {
    const t = await provisionedTestEnv('auth');
    pipeline = await startTestPipeline(t, {
      authToken: TOKEN,
      // The HTTP functions in a worker thread each (the pool's path; in-process elsewhere).
      httpWorkers: 1,
    });
  });
  afterAll(async () => {
    await pipeline?.stop();
  });

  it('refuses every route without a token, with a clear reason', async () => {
    // The user-token routes (ListenBrainz) have their own authorizer: test/integration/listenbrainz.test.ts.
    for (const r of routes.filter((r) => !('auth' in r))) {
      const path = r.path.replace('{userId}', 'auth-user').replace('{trackId}', 'trk-1');
      const res = await call(
        r.method,
        path,
        { 'content-type': 'application/json' },
        r.method === 'POST' ? event : undefined,
      );
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
      expect(res.body).toEqual({
        message: 'Unauthorized',
        reason: expect.stringContaining('missing authorization header'),
      });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('refuses a wrong token and a non-bearer scheme', async () => {
    const wrong = await call('GET', '/genres', { authorization: `Bearer ${TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(wrong.body.reason).toBe('bearer token does not match');
    const basic = await call('GET', '/genres', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` });
    expect(basic.status).toBe(401);
    expect(basic.body.reason).toMatch(/not a bearer token/);
    const write = await call(
      'POST',
      '/events',
      { authorization: 'Bearer nope', 'content-type': 'application/json' },
      event,
    );
    expect(write.status).toBe(401);
  });

  it('serves reads and accepts writes with the right token', async () => {
    const genres = await call('GET', '/genres', good);
    expect(genres.status).toBe(200);
    const posted = await call('POST', '/events', { ...good, 'content-type': 'application/json' }, event);
    expect(posted.status).toBe(202);
    expect(posted.body.accepted).toBe(1);
  });

  it('answers unknown routes 404, wrong methods 405, bad content types 415 and big bodies 413', async () => {
    expect((await call('GET', '/nope', good, undefined, 'an unknown path')).status).toBe(404);
    const wrongMethod = await call('DELETE', '/events', good, undefined, 'a method /events does not have');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toContain('POST');
    const text = await call('POST', '/events', { ...good, 'content-type': 'text/plain' }, event);
    expect(text.status).toBe(415);
    expect(text.body.message).toMatch(/content-type must be application\/json/);
    const big = `{"events":[${Array.from({ length: 1 }, () => `"${'x'.repeat(settings.INGEST_MAX_BYTES)}"`)}]}`;
    const tooBig = await call('POST', '/events', { ...good, 'content-type': 'application/json' }, big);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.message).toMatch(/limit/);
  });
});
