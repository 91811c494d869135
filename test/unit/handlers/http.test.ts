/** The HTTP API plumbing on the samples in events/: responses, body, query and path parsing. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpError, json, parseJsonBody, parseQuery, pathParam, problem } from '../../../shared/handlers/http.ts';
import { httpSample } from '../../support/samples.ts';

const statusOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err.statusCode;
    throw err;
  }
  return undefined;
};

describe('responses', () => {
  it('are JSON with the status, and problems carry field errors only when given', () => {
    expect(json(202, { accepted: 1 })).toEqual({
      statusCode: 202,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"accepted":1}',
    });
    expect(JSON.parse(problem(404, 'no such user').body as string)).toEqual({ message: 'no such user' });
    const err = new HttpError(400, 'invalid', [{ path: 'ts', message: 'must be an integer' }]);
    expect(err.toResult().statusCode).toBe(400);
    expect(JSON.parse(err.toResult().body as string)).toEqual({
      message: 'invalid',
      errors: [{ path: 'ts', message: 'must be an integer' }],
    });
  });
});

describe('parseJsonBody', () => {
  const post = httpSample('ingest-events.json');

  it('parses the sample body, plain or base64-encoded', () => {
    const body = parseJsonBody(post, 1_000_000) as { events: unknown[] };
    expect(body.events).toHaveLength(3);
    const encoded = { ...post, body: Buffer.from(post.body!).toString('base64'), isBase64Encoded: true };
    expect(parseJsonBody(encoded, 1_000_000)).toEqual(body);
  });

  it('answers 415 for another content type, 413 over the limit, 400 for empty or malformed JSON', () => {
    expect(statusOf(() => parseJsonBody({ ...post, headers: { 'content-type': 'text/plain' } }, 1_000_000))).toBe(415);
    expect(statusOf(() => parseJsonBody({ ...post, headers: {} }, 1_000_000))).toBe(415);
    expect(
      statusOf(() =>
        parseJsonBody({ ...post, headers: { 'content-type': 'application/vnd.api+json; charset=utf-8' } }, 1_000_000),
      ),
    ).toBeUndefined();
    expect(statusOf(() => parseJsonBody(post, post.body!.length - 1))).toBe(413);
    expect(statusOf(() => parseJsonBody({ ...post, body: '' }, 1_000_000))).toBe(400);
    expect(() => parseJsonBody({ ...post, body: '{"events": [' }, 1_000_000)).toThrow(/^malformed JSON: /);
  });
});

describe('parseQuery and pathParam', () => {
  const get = httpSample('read-api-recommendations.json');
  const Query = z.object({ limit: z.coerce.number().int().min(1).max(50) });

  it('read the sample request', () => {
    expect(parseQuery(get, Query)).toEqual({ limit: 10 });
    expect(pathParam(get, 'userId')).toBe('demo-ana');
  });

  it('answer 400 naming the parameter', () => {
    try {
      parseQuery({ ...get, queryStringParameters: { limit: '0' } }, Query);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HttpError);
      expect((err as HttpError).errors?.map((e) => e.path)).toEqual(['limit']);
    }
    expect(statusOf(() => pathParam({ ...get, pathParameters: {} }, 'userId'))).toBe(400);
    expect(statusOf(() => pathParam({ ...get, pathParameters: { userId: 'u'.repeat(129) } }, 'userId'))).toBe(400);
  });
});
