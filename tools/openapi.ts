/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas (request bodies are the
 * very schemas the handlers validate with; response shapes are declared here next to them) and
 * the topology's routes. `npm run openapi` writes openapi.json; a unit test keeps it current.
 *
 * Usage: npm run openapi [-- --check] [--out <file>]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { z } from 'zod';
import type { ForgetReport } from '../shared/adapters/forget.ts';
import { LISTEN_EVENT_TYPES, ListenEventInput, TrackUpsertInput } from '../shared/domain/events/events.ts';
import {
  LB_LISTEN_MINIMUM_TS,
  LB_MAX_LISTEN_SIZE,
  LB_MAX_LISTENS_PER_REQUEST,
} from '../shared/domain/events/listenbrainz.ts';
import { RECOMMENDATION_ID_PATTERN } from '../shared/domain/experiments/recommendation-id.ts';
import { GENRES, MOODS } from '../shared/domain/genres.ts';
import { type RouteSpec, routes, settings } from '../shared/topology.ts';

/** What names an answer; a play that carries it is attributed to that answer (explicit). */
const recommendationId = z.string().regex(RECOMMENDATION_ID_PATTERN);
/** The listener's ranking variant (topology `experiments`). */
const variant = z.string().min(1).max(32);
const FieldIssue = z.object({ path: z.string(), message: z.string() });
const Problem = z.object({
  message: z.string(),
  errors: z.array(FieldIssue).optional(),
  /** 401 from the authorizer. */
  reason: z.string().optional(),
});
const Rejection = z.object({ index: z.int().min(0), errors: z.array(FieldIssue) });
const Rejected = z.object({ message: z.string(), accepted: z.literal(0), rejected: z.array(Rejection) });
const nullableString = z.string().nullable();
const weights = z.record(z.string(), z.number());

/** A ListenBrainz listen as documented (listenbrainz.ts checks it, with ListenBrainz's messages). */
const nonBlank = z.string().min(1).regex(/\S/);
const lbMbid = z.string().regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/);
// Extra keys in track_metadata and additional_info are kept by ListenBrainz (and ignored here).
const lbTrackMetadata = z.object({
  artist_name: nonBlank,
  track_name: nonBlank,
  release_name: z.string().optional(),
  additional_info: z
    .object({
      recording_mbid: lbMbid.optional(),
      release_mbid: lbMbid.optional(),
      artist_mbids: z.array(lbMbid).optional(),
      duration_ms: z.int().min(1).optional(),
      spotify_id: z.string().optional(),
      media_player: z.string().optional(),
      submission_client: z.string().optional(),
      tags: z.array(z.string().max(64)).max(50).optional(),
    })
    .optional(),
});
const lbListen = (timed: boolean) =>
  timed
    ? z.strictObject({
        listened_at: z
          .int()
          .min(LB_LISTEN_MINIMUM_TS)
          .describe('Unix seconds; at most an hour ahead of the server clock (a 400 beyond that).'),
        track_metadata: lbTrackMetadata,
      })
    : z.strictObject({ track_metadata: lbTrackMetadata });

const trackItem = z.object({
  trackId: z.string(),
  title: nullableString,
  artistId: nullableString,
  artistName: nullableString,
  genres: weights,
  score: z.number(),
  reasons: z.array(z.string()),
});
const artistItem = z.object({
  artistId: z.string(),
  name: nullableString,
  genres: weights,
  score: z.number(),
  reasons: z.array(z.string()),
});
const rankedItems = z.array(z.union([trackItem, artistItem]));

/** The request and response schemas (exported so tests can hold a route's answer to its documented shape). */
export const schemas = {
  Problem,
  ListenEventInput,
  TrackUpsertInput,
  EventsAccepted: z.object({
    accepted: z.int().min(1),
    eventIds: z.array(z.string()),
    rejected: z.array(Rejection),
    /** Listens that came by name, how many resolved to a catalog item, and to one with genres. */
    resolution: z.object({ named: z.int().min(0), resolved: z.int().min(0), withGenres: z.int().min(0) }).optional(),
  }),
  TracksAccepted: z.object({ accepted: z.int().min(1), rejected: z.array(Rejection) }),
  Rejected,
  Recommendations: z.object({
    userId: z.string(),
    kind: z.enum(['track', 'artist']),
    strategy: z.enum(['collaborative', 'genre', 'popular']),
    recommendationId,
    variant,
    /** The session's part of this answer (null without plays in the last hour). */
    session: z
      .object({
        strength: z.number().min(0).max(1),
        seeds: z.array(
          z.object({
            trackId: z.string().optional(),
            artistId: z.string().optional(),
            name: nullableString,
            weight: z.number(),
          }),
        ),
      })
      .nullable(),
    items: rankedItems,
  }),
  Radio: z.object({
    userId: z.string(),
    kind: z.enum(['track', 'artist']),
    /** What seeds it: the `seed` item, else the session's plays, else the listener's favourites. */
    basis: z.enum(['seed', 'session', 'favourites']),
    recommendationId,
    variant,
    seed: z
      .object({ trackId: z.string().optional(), artistId: z.string().optional(), name: nullableString })
      .nullable(),
    strategy: z.enum(['collaborative', 'genre', 'popular']),
    items: rankedItems,
  }),
  SimilarTracks: z.object({
    trackId: z.string(),
    name: nullableString,
    recommendationId: recommendationId.nullable(),
    variant: variant.nullable(),
    items: z.array(trackItem),
  }),
  SimilarArtists: z.object({
    artistId: z.string(),
    name: nullableString,
    recommendationId: recommendationId.nullable(),
    variant: variant.nullable(),
    items: z.array(artistItem),
  }),
  Profile: z.object({
    userId: z.string(),
    variant,
    version: z.int(),
    genres: z.array(z.object({ genre: z.enum(GENRES), label: z.string(), share: z.number(), score: z.number() })),
    moods: z.array(z.object({ mood: z.enum(MOODS), score: z.number() })),
    topArtists: z.array(z.object({ artistId: z.string(), name: nullableString, weight: z.number() })),
    topTracks: z.array(
      z.object({ trackId: z.string(), title: nullableString, artistName: nullableString, weight: z.number() }),
    ),
    /** The session: the newest listening events (PROFILE_RECENT_LISTENS), newest first. */
    recent: z.array(
      z.object({
        trackId: nullableString,
        artistId: nullableString,
        title: nullableString,
        artistName: nullableString,
        ts: z.int(),
        type: z.enum(LISTEN_EVENT_TYPES),
      }),
    ),
    counts: z.object({
      plays: z.int(),
      skips: z.int(),
      likes: z.int(),
      dislikes: z.int(),
      events: z.int(),
    }),
    firstEventTs: z.int().nullable(),
    lastEventTs: z.int().nullable(),
    halfLifeDays: z.number(),
  }),
  Neighbors: z.object({
    userId: z.string(),
    neighbors: z.array(z.object({ userId: z.string(), similarity: z.number() })),
    refreshedAt: z.int().nullable(),
    profileVersion: z.int().optional(),
  }),
  Track: z.object({
    trackId: z.string(),
    title: z.string(),
    artistId: nullableString,
    artistName: nullableString,
    genres: weights,
    primaryGenre: nullableString,
    durationMs: z.int().nullable(),
    popularity: z.number(),
    updatedAt: z.int(),
  }),
  Genres: z.object({ genres: z.array(z.object({ id: z.enum(GENRES), label: z.string() })) }),
  // ListenBrainz-compatible routes (their validation is listenbrainz.ts's, with ListenBrainz's messages).
  LbSubmitListens: z.discriminatedUnion('listen_type', [
    z.object({ listen_type: z.literal('single'), payload: z.array(lbListen(true)).min(1).max(1) }),
    z.object({
      listen_type: z.literal('import'),
      payload: z.array(lbListen(true)).min(1).max(LB_MAX_LISTENS_PER_REQUEST),
    }),
    z.object({ listen_type: z.literal('playing_now'), payload: z.array(lbListen(false)).min(1).max(1) }),
  ]),
  LbRecordingFeedback: z.object({
    recording_mbid: z.uuid().optional(),
    recording_msid: z.uuid().optional(),
    score: z.union([z.literal(-1), z.literal(0), z.literal(1)]),
  }),
  Forgotten: z.object({
    userId: z.string(),
    deletedAt: z.int(),
    // satisfies: a field the deletion reports but this schema lacks is a type error here.
    deleted: z.object({
      profile: z.boolean(),
      neighbors: z.boolean(),
      candidates: z.boolean(),
      indexEntry: z.boolean(),
      userItems: z.int().min(0),
      servedLists: z.int().min(0),
    }) satisfies z.ZodType<ForgetReport>,
  }),
  LbOk: z.object({ status: z.literal('ok') }),
  LbError: z.object({ code: z.int(), error: z.string(), field: z.string().optional() }),
  LbValidateToken: z.object({
    code: z.literal(200),
    message: z.string(),
    valid: z.boolean(),
    user_name: z.string().optional(),
  }),
} satisfies Record<string, z.ZodType>;

type SchemaName = keyof typeof schemas;
const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });
const jsonContent = (schema: object) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: jsonContent(ref('Problem')) });

/** Requests are described as accepted (input), responses as produced (output). */
const REQUEST_SCHEMAS = new Set<SchemaName>([
  'ListenEventInput',
  'TrackUpsertInput',
  'LbSubmitListens',
  'LbRecordingFeedback',
]);

function componentSchemas(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(schemas) as [SchemaName, z.ZodType][]) {
    const json = z.toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: REQUEST_SCHEMAS.has(name) ? 'input' : 'output',
      // Refinements (genre vocabulary, trackId-or-artistId) cannot be expressed: the handler's
      // 400 covers them, and the document says so.
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    delete json.$schema;
    out[name] = json;
  }
  return out;
}

/** Body of the ingest routes: one item, a list, or {"<listKey>": [...]}. */
function ingestBody(item: SchemaName, listKey: string, max: number) {
  const list = { type: 'array', items: ref(item), minItems: 1, maxItems: max };
  return {
    required: true,
    description: `One item, a JSON array of items, or {"${listKey}": [...]} (at most ${max} items, ${settings.INGEST_MAX_BYTES} bytes). Items are validated one by one; invalid ones come back in \`rejected\`.`,
    content: jsonContent({
      anyOf: [{ type: 'object', properties: { [listKey]: list }, required: [listKey] }, list, ref(item)],
    }),
  };
}

const kindParam = {
  name: 'kind',
  in: 'query',
  required: false,
  schema: { type: 'string', enum: ['track', 'artist'], default: 'track' },
};
const maxPerArtistParam = {
  name: 'maxPerArtist',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: 100, default: settings.RECOMMENDATIONS_MAX_PER_ARTIST },
  description: 'At most this many items of one artist.',
};
const excludeParam = {
  name: 'exclude',
  in: 'query',
  required: false,
  schema: { type: 'string' },
  description: `Comma-separated ids never to answer (at most ${settings.EXCLUDE_MAX_IDS}).`,
};

const common = {
  '401': problem('Missing or wrong credentials (locally: bearer token; in AWS: IAM or JWT).'),
};

const lbProblem = (description: string) => ({ description, content: jsonContent(ref('LbError')) });
/** No Authorization header: API Gateway's own 401; a wrong token: ListenBrainz's. */
const lbCommon = {
  '401': {
    description: 'No token (API Gateway), or a token that is not valid (ListenBrainz error shape).',
    content: jsonContent({ oneOf: [ref('LbError'), ref('Problem')] }),
  },
};

function ok(name: SchemaName) {
  return { description: 'OK', content: jsonContent(ref(name)) };
}

const limit = (max: number, fallback: number) => ({
  name: 'limit',
  in: 'query',
  required: false,
  schema: { type: 'integer', minimum: 1, maximum: max, default: fallback },
});
const recommendationsLimit = () => limit(settings.RECOMMENDATIONS_MAX_LIMIT, settings.RECOMMENDATIONS_DEFAULT_LIMIT);

/** What each route adds to its operation: query parameters, a body, its responses; a user-token route its security. */
interface RouteDoc {
  security?: unknown[];
  query?: unknown[];
  requestBody?: unknown;
  responses: Record<string, unknown>;
}

const ingestResponses = (accepted: { description: string; schema: SchemaName }, unavailable: string) => ({
  '202': { description: accepted.description, content: jsonContent(ref(accepted.schema)) },
  '400': {
    description: 'Malformed body, or no valid item.',
    content: jsonContent({ oneOf: [ref('Problem'), ref('Rejected')] }),
  },
  ...common,
  '413': problem('Too many items or bytes.'),
  '415': problem('Content type is not JSON.'),
  '503': problem(unavailable),
});

const lbBody = (r: RouteSpec): RouteDoc => ({
  security: [{ userToken: [] }],
  requestBody: {
    required: true,
    description:
      r.path === '/1/submit-listens'
        ? `ListenBrainz listens: single and playing_now carry one listen, import up to ${LB_MAX_LISTENS_PER_REQUEST}; at most ${LB_MAX_LISTEN_SIZE} bytes per listen.`
        : 'Love (1), hate (-1) or withdraw (0) a recording, by MusicBrainz id (or MessyBrainz id).',
    content: jsonContent(ref(r.path === '/1/submit-listens' ? 'LbSubmitListens' : 'LbRecordingFeedback')),
  },
  responses: {
    '200': ok('LbOk'),
    '400': lbProblem('Invalid payload: `error` names the field and the reason.'),
    ...lbCommon,
    '413': problem("Body over API Gateway's 10 MB."),
    '503': lbProblem('Kafka unavailable; retry.'),
  },
});

const similar = (r: RouteSpec): RouteDoc => ({
  query: [
    recommendationsLimit(),
    {
      name: 'userId',
      in: 'query',
      required: false,
      schema: { type: 'string', minLength: 1, maxLength: 128 },
      description:
        'The listener the answer is for: the answer is then recorded for attribution (recommendationId, variant).',
    },
  ],
  responses: {
    '200': ok(r.path.startsWith('/tracks') ? 'SimilarTracks' : 'SimilarArtists'),
    '400': problem('Invalid query.'),
    ...common,
    '404': problem('Neither the catalog nor the item model knows the item.'),
  },
});

/** Every route's description, by route key; a route without one fails the generator (and its test). */
const ROUTE_DOCS: Record<string, (r: RouteSpec) => RouteDoc> = {
  'POST /events': () => ({
    requestBody: ingestBody('ListenEventInput', 'events', settings.INGEST_MAX_EVENTS),
    responses: ingestResponses(
      { description: 'Accepted (valid items are on Kafka).', schema: 'EventsAccepted' },
      'Kafka unavailable; retry with the same eventIds.',
    ),
  }),
  'POST /tracks': () => ({
    requestBody: ingestBody('TrackUpsertInput', 'tracks', settings.INGEST_MAX_EVENTS),
    responses: ingestResponses({ description: 'Accepted.', schema: 'TracksAccepted' }, 'Kafka unavailable; retry.'),
  }),
  'GET /users/{userId}/recommendations': () => ({
    query: [
      recommendationsLimit(),
      {
        name: 'genre',
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: 'A genre or genre-like tag (see GET /genres).',
      },
      kindParam,
      maxPerArtistParam,
      excludeParam,
    ],
    responses: { '200': ok('Recommendations'), '400': problem('Invalid query.'), ...common },
  }),
  'GET /users/{userId}/radio': () => ({
    query: [
      recommendationsLimit(),
      {
        name: 'seed',
        in: 'query',
        required: false,
        schema: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^\\s]+$' },
        description:
          "A track or artist id to start from (its kind is the radio's); without it, the session, else the favourites.",
      },
      {
        name: 'seedKind',
        in: 'query',
        required: false,
        schema: { type: 'string', enum: ['track', 'artist'] },
        description: 'Which catalog the seed is looked up in (default: tracks, then artists).',
      },
      { ...kindParam, description: 'The kind of a radio without a seed.' },
      maxPerArtistParam,
      excludeParam,
    ],
    responses: {
      '200': ok('Radio'),
      '400': problem('Invalid query: `errors` names the parameter.'),
      ...common,
      '404': problem('Unknown seed, or no profile and no seed.'),
    },
  }),
  'GET /tracks/{trackId}/similar': similar,
  'GET /artists/{artistId}/similar': similar,
  'GET /users/{userId}/profile': () => ({
    responses: { '200': ok('Profile'), '400': problem('Invalid path.'), ...common, '404': problem('No profile yet.') },
  }),
  'GET /users/{userId}/neighbors': () => ({
    query: [limit(100, Math.min(20, settings.NEIGHBORS_K))],
    responses: {
      '200': ok('Neighbors'),
      '400': problem('Invalid query.'),
      ...common,
      '404': problem('No profile yet.'),
    },
  }),
  'GET /tracks/{trackId}': () => ({
    responses: { '200': ok('Track'), '400': problem('Invalid path.'), ...common, '404': problem('Unknown track.') },
  }),
  'GET /genres': () => ({ responses: { '200': ok('Genres'), ...common } }),
  'DELETE /users/{userId}': () => ({
    responses: {
      '200': ok('Forgotten'),
      '400': problem('Invalid path.'),
      ...common,
      '503': problem('Not everything could be deleted; retry (idempotent).'),
    },
  }),
  'POST /1/submit-listens': lbBody,
  'POST /1/feedback/recording-feedback': lbBody,
  'GET /1/validate-token': () => ({
    security: [{ userToken: [] }],
    responses: { '200': ok('LbValidateToken'), ...lbCommon },
  }),
};

function operation(r: RouteSpec): Record<string, unknown> {
  const describe = ROUTE_DOCS[`${r.method} ${r.path}`];
  if (!describe) throw new Error(`no OpenAPI description for ${r.method} ${r.path}`);
  const { security, query, requestBody, responses } = describe(r);
  const params = [...r.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string', minLength: 1, maxLength: 128 },
  }));
  return {
    operationId: `${r.method.toLowerCase()}${r.path
      .replace(/[{}]/g, '')
      .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
      .replace(/[^A-Za-z]/g, '')}`,
    summary: r.description,
    security: security ?? [{ bearer: [] }],
    parameters: [...params, ...(query ?? [])],
    ...(requestBody ? { requestBody } : {}),
    responses,
  };
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'tunestream HTTP API',
      version: '1',
      description:
        'Listen-event and catalog ingest, genre profiles, nearest neighbours and recommendations. Generated from the zod schemas by `npm run openapi`; do not edit by hand.',
    },
    servers: [{ url: 'http://127.0.0.1:3000', description: 'npm start' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'Locally: the token `npm start` prints.' },
        userToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description:
            "A listener's own token, `Token <token>` (ListenBrainz style; `npm run users -- create <userId>`).",
        },
      },
      schemas: componentSchemas(),
    },
    paths,
  };
}

export const OPENAPI_FILE = resolve(import.meta.dirname, '..', 'openapi.json');
export const renderOpenApi = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;

type Json = Record<string, unknown>;
const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

/** Every `#/components/schemas/<name>` a part of the document refers to, directly. */
function schemaRefs(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) schemaRefs(v, into);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        into.add(v.slice('#/components/schemas/'.length));
      } else schemaRefs(v, into);
    }
  }
  return into;
}

/** The operations of a document, `METHOD /path` → operation. */
function operationsOf(doc: Json): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    for (const [method, op] of Object.entries(item)) {
      if (HTTP_METHODS.has(method)) out.set(`${method.toUpperCase()} ${path}`, op);
    }
  }
  return out;
}

/**
 * How a committed document differs from a freshly generated one, one line per difference, each
 * naming the routes it touches: an added, removed or changed operation, or a changed component
 * schema with the operations that use it (directly or through other schemas). Empty when equal.
 */
export function openApiDrift(committed: Json, generated: Json): string[] {
  const lines: string[] = [];
  const before = operationsOf(committed);
  const after = operationsOf(generated);
  for (const op of new Set([...before.keys(), ...after.keys()])) {
    if (!before.has(op)) lines.push(`${op}: a route missing from openapi.json`);
    else if (!after.has(op)) lines.push(`${op}: in openapi.json, no longer a route`);
    else if (!isDeepStrictEqual(before.get(op), after.get(op))) lines.push(`${op}: its operation differs`);
  }
  const schemasOf = (doc: Json) => ((doc.components as Json | undefined)?.schemas ?? {}) as Json;
  const [oldSchemas, newSchemas] = [schemasOf(committed), schemasOf(generated)];
  // Who uses a schema: operations referring to it, or to a schema that (transitively) does.
  const usedBy = (name: string): string[] => {
    const users: string[] = [];
    for (const [op, operation] of after) {
      const seen = new Set<string>();
      const pending = [...schemaRefs(operation)];
      while (pending.length > 0) {
        const next = pending.pop()!;
        if (seen.has(next)) continue;
        seen.add(next);
        pending.push(...schemaRefs(newSchemas[next]));
      }
      if (seen.has(name)) users.push(op);
    }
    return users;
  };
  for (const name of new Set([...Object.keys(oldSchemas), ...Object.keys(newSchemas)])) {
    if (isDeepStrictEqual(oldSchemas[name], newSchemas[name])) continue;
    const change = !(name in oldSchemas) ? 'missing from' : !(name in newSchemas) ? 'only in' : 'differs in';
    const users = usedBy(name);
    lines.push(
      `schema ${name} ${change} openapi.json (${users.length > 0 ? `used by ${users.join(', ')}` : 'unused'})`,
    );
  }
  for (const key of new Set([...Object.keys(committed), ...Object.keys(generated)])) {
    if (key === 'paths') continue;
    if (key === 'components') {
      const rest = (doc: Json) => ({ ...(doc.components as Json | undefined), schemas: undefined });
      if (!isDeepStrictEqual(rest(committed), rest(generated))) lines.push('components (other than schemas) differ');
    } else if (!isDeepStrictEqual(committed[key], generated[key])) lines.push(`${key} differs`);
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { check: { type: 'boolean' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(
      'Usage: npm run openapi [-- --check] [--out <file>]\n\nWrites the OpenAPI 3.1 document (default openapi.json); --check exits 1 if the file is stale.\n',
    );
    process.exit(0);
  }
  const file = resolve(values.out ?? OPENAPI_FILE);
  const text = renderOpenApi();
  if (values.check) {
    const current = (() => {
      try {
        return readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    })();
    if (current !== text) {
      const drift = current === '' ? [] : openApiDrift(JSON.parse(current) as Json, openApiDocument());
      const details = drift.length > 0 ? drift.map((l) => `  ${l}\n`).join('') : '  (formatting only)\n';
      process.stderr.write(`${file} is out of date: run npm run openapi\n${details}`);
      process.exit(1);
    }
    process.stdout.write(`${file} is up to date\n`);
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote ${file} (${routes.length} routes)\n`);
  }
}
