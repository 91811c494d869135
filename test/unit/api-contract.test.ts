/**
 * The checker every integration test's HTTP calls go through (test/support/contract.ts): what it
 * accepts and what it refuses, on a small document, and that it can check every response of the
 * committed openapi.json.
 */
import { describe, expect, it } from 'vitest';
import { ApiContract, apiContract } from '../support/contract.ts';

const problem = { $ref: '#/components/schemas/Problem' };
const json = (schema: unknown) => ({ description: '', content: { 'application/json': { schema } } });
const doc = {
  openapi: '3.1.0',
  info: { title: 't', version: '1' },
  components: {
    schemas: {
      Problem: {
        type: 'object',
        properties: { message: { type: 'string' } },
        required: ['message'],
        additionalProperties: false,
      },
      Track: {
        type: 'object',
        properties: { trackId: { type: 'string' } },
        required: ['trackId'],
        additionalProperties: false,
      },
    },
  },
  paths: {
    '/tracks/{trackId}': {
      get: { responses: { '200': json({ $ref: '#/components/schemas/Track' }), '4XX': json(problem) } },
    },
    '/tracks/popular': { get: { responses: { '200': json({ type: 'array' }) } } },
    '/ping': { post: { responses: { '204': { description: 'no body' } } } },
  },
};
const answer = (status: number, body: unknown, contentType = 'application/json') => ({
  status,
  contentType,
  text: body === undefined ? '' : JSON.stringify(body),
});

describe('the API contract checker', () => {
  const contract = new ApiContract(doc);

  it('accepts documented statuses and bodies, status ranges included', () => {
    expect(() => contract.check('GET', '/tracks/t1?x=1', answer(200, { trackId: 't1' }))).not.toThrow();
    expect(() => contract.check('GET', '/tracks/t1', answer(404, { message: 'no' }))).not.toThrow();
    expect(() => contract.check('POST', '/ping', answer(204, undefined, ''))).not.toThrow();
  });

  it('refuses an unknown operation, an undocumented status, a wrong content type or a stray body', () => {
    expect(() => contract.check('GET', '/nope', answer(200, {}))).toThrow(/GET \/nope is not an operation/);
    expect(() => contract.check('DELETE', '/tracks/t1', answer(200, {}))).toThrow(/\/tracks\/\{trackId\} has GET/);
    expect(() => contract.check('GET', '/tracks/t1', answer(500, { message: 'x' }))).toThrow(
      /GET \/tracks\/\{trackId\} answered 500, which openapi.json does not document \(documented: 200, 4XX\)/,
    );
    expect(() => contract.check('GET', '/tracks/t1', answer(200, { trackId: 't1' }, 'text/plain'))).toThrow(
      /content-type text\/plain/,
    );
    expect(() => contract.check('POST', '/ping', answer(204, { a: 1 }))).toThrow(/documented without a body/);
  });

  it('names the field that does not match', () => {
    expect(() => contract.check('GET', '/tracks/t1', answer(200, { trackId: 't1', extra: true }))).toThrow(
      /GET \/tracks\/\{trackId\} 200: the body does not match openapi.json:\n {2}\(body\) must NOT have additional properties: "extra"/,
    );
    expect(() => contract.check('GET', '/tracks/t1', answer(400, { reason: 'x' }))).toThrow(
      /must have required property 'message'/,
    );
  });

  it('prefers a concrete path over a templated one', () => {
    expect(contract.operationOf('GET', '/tracks/popular')).toBe('GET /tracks/popular');
    expect(contract.operationOf('GET', '/tracks/t1')).toBe('GET /tracks/{trackId}');
    expect(() => contract.check('GET', '/tracks/popular', answer(200, []))).not.toThrow();
  });

  it('compiles every response schema of the committed openapi.json', () => {
    expect(apiContract().compileAll()).toBeGreaterThan(40);
  });
});
