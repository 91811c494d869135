/** HTTP API (payload format 2.0) helpers shared by the API handlers: responses, body and query parsing. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { z } from 'zod';
import { type FieldIssue, formatZodIssues } from './field-issues.ts';

export type HttpResult = APIGatewayProxyStructuredResultV2;

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

export function problem(statusCode: number, message: string, errors?: FieldIssue[]): HttpResult {
  return json(statusCode, errors ? { message, errors } : { message });
}

/** A failure that carries its HTTP answer. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly errors?: FieldIssue[],
  ) {
    super(message);
  }
  toResult(): HttpResult {
    return problem(this.statusCode, this.message, this.errors);
  }
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;

/**
 * The request body as parsed JSON, or an HttpError: 415 for a non-JSON content type, 413 over
 * `maxBytes`, 400 for malformed JSON (with the parser's position).
 */
export function parseJsonBody(event: APIGatewayProxyEventV2, maxBytes: number): unknown {
  const contentType = event.headers?.['content-type'] ?? '';
  if (!JSON_TYPE.test(contentType)) {
    throw new HttpError(
      415,
      `content-type must be application/json, got ${contentType ? JSON.stringify(contentType) : 'none'}`,
    );
  }
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) throw new HttpError(413, `body is ${bytes.length} bytes; the limit is ${maxBytes}`);
  if (bytes.length === 0) throw new HttpError(400, 'body is empty; expected JSON');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
  }
}

/** Validates query parameters with a zod schema; 400 with the offending parameter on failure. */
export function parseQuery<S extends z.ZodType>(event: APIGatewayProxyEventV2, schema: S): z.infer<S> {
  const result = schema.safeParse(event.queryStringParameters ?? {});
  if (!result.success) throw new HttpError(400, 'invalid query parameters', formatZodIssues(result.error));
  return result.data;
}

export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new HttpError(400, `missing path parameter ${name}`, [{ path: name, message: 'required' }]);
  if (value.length > 128)
    throw new HttpError(400, `${name} is too long`, [{ path: name, message: 'at most 128 characters' }]);
  return value;
}
