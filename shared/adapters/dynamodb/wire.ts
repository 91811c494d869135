/**
 * DynamoDB's JSON protocol spoken directly, for the few requests on the hot paths (a
 * recommendation's BatchGet, the profile updater's reads and conditional batches, the neighbour
 * updater's cell queries and batch writes). Each request is one JSON POST signed with SigV4 by
 * `@smithy/signature-v4` (the SDK's own signer) on a keep-alive agent.
 *
 * Why not the SDK client here: measured side by side on DynamoDB Local (BENCHMARKS.md, fifth
 * round), the SDK v3's middleware stack, schema serde and DocumentClient marshalling cost ~1.4 ms
 * of CPU per BatchGetItem against ~0.4 ms for the same signed request sent this way — most of a
 * recommendation's CPU. Everything else (admin, scans, schema) stays on the SDK client, whose
 * credential chain this module reuses.
 *
 * Items cross this boundary in the SDK's AttributeValue shape (binary as Uint8Array): the wire
 * carries binary as base64, converted here in one place.
 */
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

/** A DynamoDB error answer (HTTP 4xx/5xx with `__type`), named as the SDK names it. */
export class DynamoDBWireError extends Error {
  constructor(
    override readonly name: string,
    message: string,
    readonly statusCode: number,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Error types DynamoDB documents as safe to retry with backoff. */
const RETRYABLE_TYPES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionInProgressException',
]);

/** Socket-level failures worth a new attempt (a keep-alive socket the server closed, a reset). */
const RETRYABLE_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** The error an HTTP answer stands for, or undefined for a 200. Pure, for tests. */
export function errorOf(statusCode: number, body: string): DynamoDBWireError | undefined {
  if (statusCode === 200) return undefined;
  let type = `HTTP${statusCode}`;
  let message = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { __type?: string; message?: string; Message?: string };
    if (parsed.__type) type = parsed.__type.slice(parsed.__type.lastIndexOf('#') + 1);
    message = parsed.message ?? parsed.Message ?? message;
  } catch {
    // Not JSON (a proxy's HTML page): keep the raw text.
  }
  return new DynamoDBWireError(type, message, statusCode, statusCode >= 500 || RETRYABLE_TYPES.has(type));
}

/** Exponential backoff with jitter, as the SDK's standard retry strategy (base 25 ms, cap 1 s). */
export function backoffMs(attempt: number, random = Math.random): number {
  return Math.min(1000, 25 * 2 ** attempt) * (0.5 + random());
}

/** The SDK shape → the wire's JSON (binary as base64), recursively. */
export function toWire(v: AttributeValue): unknown {
  if (v.B !== undefined) return { B: Buffer.from(v.B.buffer, v.B.byteOffset, v.B.byteLength).toString('base64') };
  if (v.M !== undefined) {
    const m: Record<string, unknown> = {};
    for (const k in v.M) m[k] = toWire(v.M[k]!);
    return { M: m };
  }
  if (v.L !== undefined) return { L: v.L.map(toWire) };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
  return v;
}

/** The wire's JSON → the SDK shape (binary as Uint8Array), recursively. */
export function fromWire(v: Record<string, unknown>): AttributeValue {
  if (typeof v.B === 'string') return { B: Buffer.from(v.B, 'base64') };
  if (v.M !== undefined) return { M: itemFromWire(v.M as Record<string, Record<string, unknown>>) };
  if (v.L !== undefined) return { L: (v.L as Record<string, unknown>[]).map(fromWire) };
  if (v.BS !== undefined) return { BS: (v.BS as string[]).map((b) => Buffer.from(b, 'base64')) };
  return v as unknown as AttributeValue;
}

export function itemFromWire(item: Record<string, Record<string, unknown>>): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const k in item) out[k] = fromWire(item[k]!);
  return out;
}

export function itemToWire(item: Record<string, AttributeValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in item) out[k] = toWire(item[k]!);
  return out;
}

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === 'string' || data instanceof Uint8Array) return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** `node:crypto` behind the hash interface the signer takes (what @smithy/hash-node does). */
export class NodeSha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret ? createHmac('sha256', bytesOf(secret)) : createHash('sha256');
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

export interface DynamoWireOptions {
  /** DynamoDB Local or a container; default the region's public endpoint (HTTPS). */
  endpoint?: string;
  region: string;
  credentials: AwsCredentialIdentityProvider;
  /** Attempts per request, retryable errors only (the SDK client is configured the same). */
  maxAttempts?: number;
  /** Per attempt; a slower answer is abandoned and retried. */
  timeoutMs?: number;
}

export class DynamoWire {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly signer: SignatureV4;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;

  constructor(opts: DynamoWireOptions) {
    this.url = new URL(opts.endpoint ?? `https://dynamodb.${opts.region}.amazonaws.com`);
    const secure = this.url.protocol === 'https:';
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 50 }) : new http.Agent({ keepAlive: true });
    this.request = secure ? https.request : http.request;
    this.signer = new SignatureV4({
      service: 'dynamodb',
      region: opts.region,
      credentials: opts.credentials,
      sha256: NodeSha256,
    });
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** One operation (`BatchGetItem`, `BatchExecuteStatement`, …): the parsed answer, retried with backoff. */
  async call<T>(operation: string, input: unknown): Promise<T> {
    const body = JSON.stringify(input);
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.once(operation, body)) as T;
      } catch (err) {
        const retryable =
          err instanceof DynamoDBWireError
            ? err.retryable
            : RETRYABLE_CODES.has((err as NodeJS.ErrnoException).code ?? '');
        if (!retryable || attempt + 1 >= this.maxAttempts) throw err;
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  private async once(operation: string, body: string): Promise<unknown> {
    const host = this.url.host;
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: this.url.protocol,
      hostname: this.url.hostname,
      ...(this.url.port ? { port: Number(this.url.port) } : {}),
      path: '/',
      query: {},
      headers: {
        host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    });
    return new Promise((resolve, reject) => {
      const req = this.request(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname,
          port: this.url.port || undefined,
          method: 'POST',
          path: '/',
          headers: signed.headers,
          agent: this.agent,
          timeout: this.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const error = errorOf(res.statusCode ?? 0, text);
            if (error) return reject(error);
            try {
              resolve(JSON.parse(text));
            } catch (err) {
              reject(new DynamoDBWireError('MalformedResponse', `${operation}: ${(err as Error).message}`, 200, true));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error(`${operation} timed out`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }
}
