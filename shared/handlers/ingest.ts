/**
 * The shared shape of the ingest routes: a JSON body holding one item or a list of them, each
 * validated on its own; valid items go to Kafka, invalid ones come back with field-level reasons.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { z } from 'zod';
import { type FieldIssue, formatZodIssues } from './field-issues.ts';
import { HttpError, parseJsonBody } from './http.ts';

export interface Rejection {
  index: number;
  errors: FieldIssue[];
}

export interface IngestLimits {
  maxItems: number;
  maxBytes: number;
}

/**
 * Parses `{"<listKey>": [...]}` or a single item. 413 over the limits, 400 for malformed JSON or
 * a body that is neither shape.
 */
export function readItems(event: APIGatewayProxyEventV2, listKey: string, limits: IngestLimits): unknown[] {
  const body = parseJsonBody(event, limits.maxBytes);
  let items: unknown[];
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && listKey in body) {
    const list = (body as Record<string, unknown>)[listKey];
    if (!Array.isArray(list))
      throw new HttpError(400, `${listKey} must be an array`, [{ path: listKey, message: 'expected an array' }]);
    items = list;
  } else if (Array.isArray(body)) {
    items = body;
  } else if (body !== null && typeof body === 'object') {
    items = [body];
  } else {
    throw new HttpError(400, `body must be an object or {"${listKey}": [...]}`);
  }
  if (items.length === 0)
    throw new HttpError(400, `${listKey} is empty`, [{ path: listKey, message: 'at least one item is required' }]);
  if (items.length > limits.maxItems) {
    throw new HttpError(413, `${items.length} items; at most ${limits.maxItems} per request`, [
      { path: listKey, message: `at most ${limits.maxItems} items` },
    ]);
  }
  return items;
}

export function validateItems<S extends z.ZodType>(
  items: readonly unknown[],
  schema: S,
  listKey: string,
  check?: (item: z.infer<S>) => FieldIssue[],
): { valid: { index: number; item: z.infer<S> }[]; rejected: Rejection[] } {
  const valid: { index: number; item: z.infer<S> }[] = [];
  const rejected: Rejection[] = [];
  items.forEach((raw, index) => {
    const prefix = items.length > 1 ? `${listKey}[${index}]` : '';
    const result = schema.safeParse(raw);
    if (!result.success) {
      rejected.push({ index, errors: formatZodIssues(result.error, prefix) });
      return;
    }
    const extra = check?.(result.data) ?? [];
    if (extra.length > 0) {
      rejected.push({ index, errors: extra.map((e) => ({ ...e, path: prefix ? `${prefix}.${e.path}` : e.path })) });
    } else valid.push({ index, item: result.data });
  });
  return { valid, rejected };
}
