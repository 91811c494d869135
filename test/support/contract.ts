/**
 * The API contract in the tests: every response a test receives from the HTTP API is checked
 * against openapi.json — the committed document clients generate code from — for the operation it
 * answers. The operation must be in the document, the status must be documented for it, and the
 * body must match that status's schema; otherwise the request fails the test, naming the
 * operation, the status and what did not match. So every test that calls the API is a contract
 * test, and a route added with its schema (`tools/openapi.ts`) is checked with no change here.
 *
 * Calls that are deliberately outside the document (an unknown path, a wrong method, the
 * dashboard's own endpoints) say so with `outsideContract`, which fails if the call turns out to be
 * a documented operation after all.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';
import { OPENAPI_FILE } from '../../tools/openapi.ts';

interface MediaType {
  schema?: unknown;
}
interface ResponseObject {
  content?: Record<string, MediaType>;
}
interface Operation {
  responses: Record<string, ResponseObject>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

const DOCUMENT_ID = 'https://tunestream.invalid/openapi.json';
/** The top-level keys of an OpenAPI document: none is a JSON Schema keyword. */
const OPENAPI_KEYS = [
  'openapi',
  'info',
  'jsonSchemaDialect',
  'servers',
  'paths',
  'webhooks',
  'components',
  'security',
  'tags',
  'externalDocs',
];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export interface ContractResponse {
  status: number;
  contentType: string | null;
  /** The body as received (empty string for none). */
  text: string;
}

interface PathTemplate {
  path: string;
  pattern: RegExp;
  /** Literal segments: a concrete path wins over a templated one (`/tracks/popular` over `/tracks/{trackId}`). */
  literals: number;
}

export class ApiContract {
  private readonly doc: OpenApiDocument;
  private readonly templates: PathTemplate[];
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(doc: unknown) {
    this.doc = doc as OpenApiDocument;
    this.templates = Object.keys(this.doc.paths)
      .map((path) => {
        const segments = path.split('/').slice(1);
        const pattern = segments.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+' : escapeRegExp(s))).join('/');
        return {
          path,
          pattern: new RegExp(`^/${pattern}$`),
          literals: segments.filter((s) => !s.startsWith('{')).length,
        };
      })
      .sort((a, b) => b.literals - a.literals);
    // The whole document is one schema resource, so `#/components/schemas/…` refs resolve as they
    // do for a client; the OpenAPI-only keys are allowed as annotations, everything else is strict.
    this.ajv = new Ajv2020({ allErrors: true, strict: true, strictTuples: false });
    addFormats(this.ajv);
    for (const key of OPENAPI_KEYS) this.ajv.addKeyword(key);
    this.ajv.addSchema({ ...(doc as object), $id: DOCUMENT_ID });
  }

  /** The documented path template a request path is answered by, if any (query string ignored). */
  operationOf(method: string, path: string): string | undefined {
    const pathname = new URL(path, 'http://x').pathname;
    const template = this.templates.find((t) => t.pattern.test(pathname));
    if (!template || !this.doc.paths[template.path]?.[method.toLowerCase()]) return undefined;
    return `${method.toUpperCase()} ${template.path}`;
  }

  /** Throws an error naming the operation, status and mismatch unless the response is as documented. */
  check(method: string, path: string, res: ContractResponse): void {
    const operation = this.operationOf(method, path);
    if (!operation) {
      const documented = this.templates.find((t) => t.pattern.test(new URL(path, 'http://x').pathname));
      const methods = documented
        ? Object.keys(this.doc.paths[documented.path] ?? {}).filter((m) => METHODS.includes(m))
        : [];
      throw new Error(
        `${method.toUpperCase()} ${path} is not an operation of openapi.json` +
          (documented ? ` (${documented.path} has ${methods.map((m) => m.toUpperCase()).join(', ')})` : '') +
          ` — answered ${res.status}`,
      );
    }
    const [verb, template] = operation.split(' ') as [string, string];
    const responses = this.doc.paths[template]![verb.toLowerCase()]!.responses;
    const key = [String(res.status), `${String(res.status)[0]}XX`, 'default'].find((k) => k in responses);
    if (!key) {
      throw new Error(
        `${operation} answered ${res.status}, which openapi.json does not document (documented: ${Object.keys(responses).join(', ')}); body: ${excerpt(res.text)}`,
      );
    }
    const content = responses[key]!.content;
    if (!content || Object.keys(content).length === 0) {
      if (res.text !== '')
        throw new Error(`${operation} ${res.status}: documented without a body, got ${excerpt(res.text)}`);
      return;
    }
    const mediaType = (res.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!(mediaType in content)) {
      throw new Error(
        `${operation} ${res.status}: content-type ${res.contentType ?? '(none)'}, documented: ${Object.keys(content).join(', ')}`,
      );
    }
    if (!/json/.test(mediaType) || content[mediaType]!.schema === undefined) return;
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new Error(`${operation} ${res.status}: the body is not JSON: ${excerpt(res.text)}`);
    }
    const pointer = ['paths', template, verb.toLowerCase(), 'responses', key, 'content', mediaType, 'schema'];
    const validate = this.validatorFor(pointer);
    if (!validate(body)) {
      const problems = (validate.errors ?? []).map(
        (e) =>
          `${e.instancePath || '(body)'} ${e.message}${e.keyword === 'additionalProperties' ? `: ${JSON.stringify(e.params.additionalProperty)}` : ''} (${readablePointer(e.schemaPath)})`,
      );
      throw new Error(
        `${operation} ${res.status}: the body does not match openapi.json:\n  ${[...new Set(problems)].join('\n  ')}\nbody: ${excerpt(res.text)}`,
      );
    }
  }

  /** Compiles every documented JSON response schema (strict mode finds a schema Ajv cannot check); returns how many. */
  compileAll(): number {
    let count = 0;
    for (const [template, item] of Object.entries(this.doc.paths)) {
      for (const [verb, op] of Object.entries(item)) {
        if (!METHODS.includes(verb)) continue;
        for (const [key, response] of Object.entries(op.responses)) {
          for (const [mediaType, media] of Object.entries(response.content ?? {})) {
            if (media.schema === undefined) continue;
            this.validatorFor(['paths', template, verb, 'responses', key, 'content', mediaType, 'schema']);
            count++;
          }
        }
      }
    }
    return count;
  }

  private validatorFor(pointer: string[]): ValidateFunction {
    const ref = `${DOCUMENT_ID}#/${pointer.map(escapePointerSegment).join('/')}`;
    let validate = this.validators.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}

// ajv-formats is CommonJS: its default export is the plugin function itself.
const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A JSON pointer segment inside a URI fragment (RFC 6901 §6): `~0`, `~1`, then percent-encoded. */
const escapePointerSegment = (s: string) => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'));
/** A schema path as a reader wants it: `#/components/schemas/Problem/…`, `#/paths//users/{userId}/…`. */
const readablePointer = (ref: string) =>
  decodeURIComponent(ref.replace(DOCUMENT_ID, '')).replace(/~1/g, '/').replace(/~0/g, '~');
const excerpt = (text: string) => (text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty)');

let committed: ApiContract | undefined;
/**
 * The contract of the committed openapi.json, read and compiled once per test file, all of it at
 * once (`startTestPipeline` asks for it before the pipeline starts: compiling is synchronous work
 * that, done at a test's first requests, would stall the in-process pipeline the test waits on).
 */
export function apiContract(): ApiContract {
  if (!committed) {
    committed = new ApiContract(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
    committed.compileAll();
  }
  return committed;
}

export interface CheckedResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed JSON body; undefined when the body is empty. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of documented bodies freely; the contract checked their shape
  body: any;
}

export interface CheckedRequestInit extends RequestInit {
  /**
   * Why this call is not an operation of the API (an unknown path, a wrong method, the dashboard's
   * own endpoints): then the response is not checked, and the call fails if it is an operation.
   */
  outsideContract?: string;
}

/**
 * `fetch` for the tests: the response is read and checked against openapi.json for the operation
 * it answers before the test sees it (see the module comment).
 */
export async function checkedFetch(
  baseUrl: string,
  path: string,
  init: CheckedRequestInit = {},
): Promise<CheckedResponse> {
  const { outsideContract, ...request } = init;
  const method = request.method ?? 'GET';
  const contract = apiContract();
  if (outsideContract !== undefined) {
    const operation = contract.operationOf(method, path);
    if (operation) {
      throw new Error(`${method} ${path} is marked outside the contract (${outsideContract}) but is ${operation}`);
    }
  }
  const res = await fetch(`${baseUrl}${path}`, request);
  const text = await res.text();
  if (outsideContract === undefined) {
    contract.check(method, path, { status: res.status, contentType: res.headers.get('content-type'), text });
  }
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
  }
  return { status: res.status, headers: res.headers, text, body };
}
