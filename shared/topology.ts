/**
 * The one topology definition: topics, tables, functions, routes, triggers, schedules and settings.
 *
 * Both the CDK stack (cdk/) and the local runtime (local/) read this module, so what runs on a
 * laptop and what `cdk deploy` provisions cannot drift. Nothing about topology is restated
 * anywhere else; a test compares the synthesized template with this file.
 *
 * Pure data: no AWS or Kafka imports. One file on purpose (~780 lines, nearly all declarations):
 * its point is that the whole deployment reads top to bottom in one place, every hop an event
 * takes (topic, trigger, route) among them.
 */
import { DAY_MS } from './domain/events/events.ts';
import { ConfigurationError } from './errors.ts';

export type FunctionName =
  | 'ingest-events'
  | 'ingest-tracks'
  | 'catalog-updater'
  | 'profile-updater'
  | 'neighbor-updater'
  | 'event-archiver'
  | 'item-model-builder'
  | 'read-api'
  | 'dashboard-stats'
  | 'listenbrainz-api'
  | 'token-authorizer'
  | 'user-admin'
  | 'served-list-recorder'
  | 'recommendation-attributor';

export interface TopicSpec {
  /** Kafka topic name (prefixed per environment/test by `resolveTopology`). */
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly description: string;
}

export type AttributeType = 'S' | 'N' | 'B';

export interface KeySpec {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  /** Projection: ALL, KEYS_ONLY or a list of non-key attributes (INCLUDE). */
  readonly projection: 'ALL' | 'KEYS_ONLY' | readonly string[];
}

export interface TableSpec {
  readonly name: string;
  readonly partitionKey: KeySpec;
  readonly sortKey?: KeySpec;
  readonly globalSecondaryIndexes?: readonly IndexSpec[];
  /** Attribute holding an epoch-seconds expiry, if items expire. */
  readonly ttlAttribute?: string;
  readonly description: string;
}

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

export interface RouteSpec {
  readonly method: HttpMethod;
  /** API Gateway route path, with `{param}` placeholders. */
  readonly path: string;
  readonly function: FunctionName;
  /** Read routes may use the optional JWT authorizer in the cloud; writes stay IAM-only. */
  readonly access: 'read' | 'write';
  /**
   * `user-token`: a listener's own token (`Authorization: Token <token>`, ListenBrainz style),
   * checked by the `token-authorizer` function (a cached Lambda request authorizer in the cloud,
   * the same function locally). Absent: the API's default (IAM in the cloud, the bearer token locally).
   */
  readonly auth?: 'user-token';
  readonly description: string;
}

export interface TriggerSpec {
  readonly function: FunctionName;
  readonly topic: TopicKey;
  /** Kafka consumer group id (fixed, so a redeploy resumes where it left off). */
  readonly consumerGroupId: string;
  /** Max records per invocation (MSK ESM allows 1–10,000). */
  readonly batchSize: number;
  /** Max time to gather a batch, seconds (MSK ESM: 0–300). */
  readonly maxBatchingWindowSeconds: number;
  /** Retries of a failing batch before its records go to the on-failure destination. */
  readonly retryAttempts: number;
  /** Split a failing batch in two and retry the halves (isolates the bad record). */
  readonly bisectBatchOnError: boolean;
  /** Records older than this are not retried but sent to the on-failure destination. */
  readonly maxRecordAgeSeconds: number;
  /** Handlers report failed records (`batchItemFailures`) instead of failing the whole batch. */
  readonly reportBatchItemFailures: boolean;
  /** Where records go once retries are exhausted: locally the dead-letter topic; in the cloud an S3 bucket. */
  readonly onFailure: 'dead-letters';
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
}

export interface FunctionSpec {
  readonly name: FunctionName;
  readonly description: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Topics the function produces to (drives Kafka WriteData grants). */
  readonly producesTo: readonly TopicKey[];
  /** Tables the function reads / writes (drives DynamoDB grants). */
  readonly reads: readonly TableKey[];
  readonly writes: readonly TableKey[];
  /** Writes the raw event archive (drives ARCHIVE_BUCKET and an s3:PutObject grant in the cloud). */
  readonly writesArchive?: boolean;
  /** Reads the newest archive objects (drives ARCHIVE_BUCKET and s3:ListBucket/GetObject in the cloud). */
  readonly readsArchive?: boolean;
  /** Reads the stack's CloudWatch metrics (cloudwatch:GetMetricData). */
  readonly readsMetrics?: boolean;
  /**
   * Runs outside the VPC in the cloud: it needs no broker, and AWS APIs it calls (CloudWatch) have
   * no free gateway endpoint, so an interface endpoint would cost more than the function.
   */
  readonly outsideVpc?: boolean;
  /**
   * The module the local runtime runs instead of `functions/<name>/handler.ts` (repo-relative;
   * exports `handler`): the item model build runs on DuckDB locally, on Athena in the cloud.
   */
  readonly localHandler?: string;
}

export const topics = {
  listenEvents: {
    name: 'listen-events',
    partitions: 6,
    retentionMs: 7 * DAY_MS,
    description: 'Listen events v1 (play, skip, like, dislike), keyed by userId.',
  },
  tracks: {
    name: 'tracks',
    partitions: 3,
    retentionMs: 7 * DAY_MS,
    description: 'Catalog upserts, keyed by trackId.',
  },
  profileUpdates: {
    name: 'profile-updates',
    partitions: 6,
    retentionMs: 1 * DAY_MS,
    description: 'One compact record per changed profile, keyed by userId.',
  },
  nowPlaying: {
    name: 'now-playing',
    partitions: 3,
    retentionMs: 1 * DAY_MS,
    description:
      'ListenBrainz playing_now notices (ListenEventV1 shape, keyed by userId): shown live, never folded into profiles.',
  },
  servedLists: {
    name: 'served-lists',
    partitions: 6,
    // The attribution window (ATTRIBUTION_WINDOW_HOURS) and a day of margin for a stalled consumer.
    retentionMs: 2 * DAY_MS,
    description:
      "Served lists v1 (what an answer showed: user, route, items by position, strategy, variant), keyed by userId; written by served-list-recorder from the read API's log subscription.",
  },
  deadLetters: {
    name: 'dead-letters',
    partitions: 1,
    retentionMs: 14 * DAY_MS,
    description: 'Records that could not be decoded, validated or applied, with reason and source coordinates.',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicKey = keyof typeof topics;

export const tables = {
  profiles: {
    name: 'profiles',
    partitionKey: { name: 'userId', type: 'S' },
    description:
      'Genre profile per user: decayed genre scores, top artists/tracks, counts, applied offsets per partition.',
  },
  neighbors: {
    name: 'neighbors',
    partitionKey: { name: 'userId', type: 'S' },
    description: "Each user's top-K most similar users, with the profile snapshot used for the last refresh.",
  },
  neighborIndex: {
    name: 'neighbor-index',
    partitionKey: { name: 'cell', type: 'S' },
    sortKey: { name: 'userId', type: 'S' },
    description:
      'Approximate nearest-neighbour index: a compact taste vector per (cell, user); a refresh reads only a few cells.',
  },
  catalog: {
    name: 'catalog',
    // itemId is `t#<trackId>` for tracks and `a#<artistId>` for artists (artist genre weights,
    // merged from their tracks' tags or loaded directly, e.g. from Last.fm).
    partitionKey: { name: 'itemId', type: 'S' },
    globalSecondaryIndexes: [
      {
        // genreKey is `t#<genre>` / `a#<genre>` (the item's primary genre): popular items per genre.
        name: 'by-genre-popularity',
        partitionKey: { name: 'genreKey', type: 'S' },
        sortKey: { name: 'popularity', type: 'N' },
        projection: 'ALL',
      },
    ],
    description: 'Catalog of tracks and artists with genre weights; the GSI serves popular items per genre.',
  },
  candidates: {
    name: 'candidates',
    partitionKey: { name: 'userId', type: 'S' },
    description:
      "Each user's precomputed recommendation candidates (tracks and artists with the ranking's component scores), built when the user's neighbours are refreshed; ranked at read time.",
  },
  itemModel: {
    name: 'item-model',
    // itemId: `a#<artistId>` / `t#<trackId>` (an item's listener count and neighbour lists),
    // `model#a` / `model#t` (the manifest of the latest build) and
    // `counts#<kind>#<modelId>#<n>` (that build's listener counts, sharded).
    partitionKey: { name: 'itemId', type: 'S' },
    // Every build rewrites what it still knows; what it no longer does expires.
    ttlAttribute: 'expiresAt',
    description:
      'Item model rebuilt on a schedule from the profiles and the catalog: listener counts, co-listening and tag-content neighbours per item.',
  },
  users: {
    name: 'users',
    // sk: `token#<sha256 of the token>` (a user token, stored hashed) or `feedback#<recording>`
    // (the listener's last ListenBrainz feedback on a recording, so a withdrawal can be undone).
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    globalSecondaryIndexes: [
      { name: 'by-token-hash', partitionKey: { name: 'tokenHash', type: 'S' }, projection: 'KEYS_ONLY' },
    ],
    description: "Listeners' hashed API tokens (ListenBrainz-style user tokens) and their recording feedback state.",
  },
  servedLists: {
    name: 'served-lists',
    // sk: the recommendationId (time-ordered: a Query of one listener's window is a key range).
    partitionKey: { name: 'userId', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    // The attribution window and an hour: nothing is attributed to a list after it.
    ttlAttribute: 'expiresAt',
    description:
      "Served lists per listener within the attribution window (items as fingerprints, by position) and each list's first hit: what the attributor matches plays against.",
  },
  experimentCounters: {
    name: 'experiment-counters',
    // day: epoch day; key: `<hour>#<variant>#<route>#<strategy>` (route and strategy `*` for the
    // all-plays counters). The panel reads a day with one Query.
    partitionKey: { name: 'day', type: 'N' },
    sortKey: { name: 'key', type: 'S' },
    ttlAttribute: 'expiresAt',
    description:
      'Attribution counters per hour, variant, route and strategy (lists served, lists with a hit, plays from recommendations by position, all plays), each with the Kafka offsets it has applied.',
  },
} as const satisfies Record<string, TableSpec>;

export type TableKey = keyof typeof tables;

export interface CapacityBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * DynamoDB capacity with `-c capacity=provisioned` (the default is on-demand): the tables whose
 * load follows the event stream get provisioned read and write capacity (their indexes too) with
 * target-tracking auto scaling between these bounds; at a steady load a provisioned unit at 70 %
 * utilization costs ~40 % of the on-demand request (docs/deploy.md, "Rough monthly cost"). The
 * item model stays on demand: its loader writes in hourly bursts that auto scaling (minutes to
 * react) would throttle. Minimums are what an idle stack pays for; maximums cap a runaway bill
 * (throttling alarms fire first: cdk/constructs/observability.ts).
 */
export const provisionedCapacity = {
  targetUtilizationPercent: 70,
  tables: {
    profiles: { read: { min: 5, max: 4000 }, write: { min: 5, max: 4000 } },
    neighbors: { read: { min: 5, max: 4000 }, write: { min: 5, max: 4000 } },
    neighborIndex: { read: { min: 5, max: 4000 }, write: { min: 5, max: 4000 } },
    candidates: { read: { min: 5, max: 4000 }, write: { min: 5, max: 4000 } },
    catalog: { read: { min: 2, max: 4000 }, write: { min: 2, max: 4000 } },
    users: { read: { min: 1, max: 500 }, write: { min: 1, max: 500 } },
    // Attribution follows the stream too: the served lists take a write per listener's batch of
    // lists and a consistent Query per listener's batch of plays (as the profiles do); the counters
    // a conditional update per partition, hour, variant, route and strategy of each batch, and
    // only the panel reads them.
    servedLists: { read: { min: 5, max: 4000 }, write: { min: 5, max: 4000 } },
    experimentCounters: { read: { min: 2, max: 4000 }, write: { min: 5, max: 4000 } },
  },
} as const satisfies {
  targetUtilizationPercent: number;
  tables: Partial<Record<TableKey, { read: CapacityBounds; write: CapacityBounds }>>;
};

export const functions = {
  'ingest-events': {
    name: 'ingest-events',
    description:
      'POST /events: validates listen events, resolves names to the catalog and produces them to listen-events.',
    memoryMb: 512,
    timeoutSeconds: 10,
    producesTo: ['listenEvents'],
    // The catalog's name index (reads) and name-only items for names it does not know (writes).
    reads: ['catalog'],
    writes: ['catalog'],
  },
  'ingest-tracks': {
    name: 'ingest-tracks',
    description: 'POST /tracks: validates catalog upserts and produces them to tracks.',
    memoryMb: 512,
    timeoutSeconds: 10,
    producesTo: ['tracks'],
    reads: [],
    writes: [],
  },
  'catalog-updater': {
    name: 'catalog-updater',
    description: 'tracks → catalog table.',
    memoryMb: 512,
    timeoutSeconds: 60,
    producesTo: ['deadLetters'],
    reads: ['catalog'],
    writes: ['catalog'],
  },
  'profile-updater': {
    name: 'profile-updater',
    description: 'listen-events → genre profiles; publishes profile-updates.',
    memoryMb: 1024,
    timeoutSeconds: 60,
    producesTo: ['profileUpdates', 'deadLetters'],
    reads: ['profiles', 'catalog'],
    writes: ['profiles'],
  },
  'neighbor-updater': {
    name: 'neighbor-updater',
    description: 'profile-updates → nearest-neighbour lists, the neighbour index and the recommendation candidates.',
    memoryMb: 1024,
    timeoutSeconds: 60,
    producesTo: ['deadLetters'],
    reads: ['profiles', 'neighbors', 'neighborIndex', 'itemModel', 'candidates'],
    writes: ['neighbors', 'neighborIndex', 'candidates'],
  },
  'event-archiver': {
    name: 'event-archiver',
    description: 'listen-events → raw event archive (JSON lines per hour partition; S3 in the cloud).',
    memoryMb: 512,
    timeoutSeconds: 60,
    producesTo: ['deadLetters'],
    reads: [],
    writes: [],
    writesArchive: true,
  },
  'item-model-builder': {
    name: 'item-model-builder',
    description:
      "The item model's loader (batch layer): Athena's Parquet (DuckDB's rows locally) → changed lists, counts, manifests; catalog tags out for Athena.",
    // Holds one build's lists (the Parquet rows) and the stored lists it compares them with.
    memoryMb: 3008,
    timeoutSeconds: 900,
    // Announces each build to profile-updates, so users' candidate sets are rebuilt with it.
    producesTo: ['profileUpdates'],
    reads: ['profiles', 'catalog', 'itemModel'],
    writes: ['itemModel'],
    // Locally: the item model's SQL on DuckDB over the archive (sql/item-model/), the batch loader.
    localHandler: 'local/batch/item-model-job.ts',
  },
  'read-api': {
    name: 'read-api',
    description: 'GET routes: recommendations, profile, neighbours, tracks, genres.',
    memoryMb: 1024,
    timeoutSeconds: 10,
    producesTo: [],
    reads: ['profiles', 'neighbors', 'catalog', 'itemModel', 'candidates'],
    writes: [],
  },
  'dashboard-stats': {
    name: 'dashboard-stats',
    description:
      'GET /api/stats and /api/stream for the dashboard: CloudWatch metrics (rates, consumer lag, errors) and the newest archived events in the cloud; the local runtime runs it over its own consumer and counters.',
    memoryMb: 256,
    timeoutSeconds: 10,
    producesTo: [],
    reads: ['catalog', 'experimentCounters'],
    writes: [],
    readsArchive: true,
    readsMetrics: true,
    outsideVpc: true,
  },
  'listenbrainz-api': {
    name: 'listenbrainz-api',
    description:
      'ListenBrainz-compatible /1/ routes: submit-listens, validate-token, recording-feedback (the listener from the token authorizer).',
    memoryMb: 512,
    timeoutSeconds: 10,
    producesTo: ['listenEvents', 'nowPlaying'],
    // Catalog: the name index and name-only items (as ingest-events); users: feedback state.
    reads: ['catalog', 'users'],
    writes: ['catalog', 'users'],
  },
  'user-admin': {
    name: 'user-admin',
    description:
      'DELETE /users/{userId}: forgets a listener (profile, neighbour list and index entry, candidate set, tokens, feedback, served lists and their hits) and records the deletion.',
    memoryMb: 512,
    timeoutSeconds: 30,
    producesTo: [],
    reads: ['neighbors', 'users', 'servedLists'],
    writes: ['profiles', 'neighbors', 'neighborIndex', 'candidates', 'users', 'servedLists'],
    // The deletion tombstone (deletions/<userId>.json), which archive replays honour.
    writesArchive: true,
  },
  'served-list-recorder': {
    name: 'served-list-recorder',
    description:
      "The read API's log subscription → served-lists: each answer's served-list line, as CloudWatch Logs delivers it (gzip, base64), produced to Kafka keyed by listener.",
    memoryMb: 256,
    timeoutSeconds: 30,
    // Dead letters: a line that does not parse is set aside with its reason, not dropped.
    producesTo: ['servedLists', 'deadLetters'],
    reads: [],
    writes: [],
  },
  'recommendation-attributor': {
    name: 'recommendation-attributor',
    description:
      'served-lists and listen-events → attribution: stores each served list for its window, matches plays to them (explicit recommendationId or implicit), counts per variant, route, strategy and position.',
    memoryMb: 512,
    timeoutSeconds: 60,
    producesTo: ['deadLetters'],
    reads: ['servedLists', 'experimentCounters'],
    writes: ['servedLists', 'experimentCounters'],
  },
  'token-authorizer': {
    name: 'token-authorizer',
    description: 'Lambda request authorizer of the user-token routes: token (SHA-256) → userId.',
    memoryMb: 256,
    timeoutSeconds: 5,
    producesTo: [],
    reads: ['users'],
    writes: [],
  },
} as const satisfies Record<FunctionName, FunctionSpec>;

export const routes = [
  { method: 'POST', path: '/events', function: 'ingest-events', access: 'write', description: 'Ingest listen events.' },
  {
    method: 'POST',
    path: '/tracks',
    function: 'ingest-tracks',
    access: 'write',
    description: 'Upsert catalog tracks.',
  },
  {
    method: 'GET',
    path: '/users/{userId}/recommendations',
    function: 'read-api',
    access: 'read',
    description: 'Recommended tracks with reasons.',
  },
  {
    method: 'GET',
    path: '/users/{userId}/profile',
    function: 'read-api',
    access: 'read',
    description: 'Genre profile.',
  },
  {
    method: 'GET',
    path: '/users/{userId}/neighbors',
    function: 'read-api',
    access: 'read',
    description: 'Nearest neighbours (similar listeners).',
  },
  {
    method: 'GET',
    path: '/users/{userId}/radio',
    function: 'read-api',
    access: 'read',
    description: 'Up next: seeded by an item, else the session, else the favourites; artist-diverse.',
  },
  { method: 'GET', path: '/tracks/{trackId}', function: 'read-api', access: 'read', description: 'One catalog track.' },
  {
    method: 'GET',
    path: '/tracks/{trackId}/similar',
    function: 'read-api',
    access: 'read',
    description: 'Tracks similar to a track (co-listening and tags).',
  },
  {
    method: 'GET',
    path: '/artists/{artistId}/similar',
    function: 'read-api',
    access: 'read',
    description: 'Artists similar to an artist (co-listening and tags).',
  },
  { method: 'GET', path: '/genres', function: 'read-api', access: 'read', description: 'The genre vocabulary.' },
  {
    method: 'DELETE',
    path: '/users/{userId}',
    function: 'user-admin',
    access: 'write',
    description: 'Forget a listener: profile, neighbours, index entry, tokens; the deletion is recorded.',
  },
  {
    method: 'POST',
    path: '/1/submit-listens',
    function: 'listenbrainz-api',
    access: 'write',
    auth: 'user-token',
    description: "ListenBrainz: submit listens (single, import, playing_now) as the token's listener.",
  },
  {
    method: 'GET',
    path: '/1/validate-token',
    function: 'listenbrainz-api',
    access: 'read',
    auth: 'user-token',
    description: 'ListenBrainz: is the token valid, and whose is it.',
  },
  {
    method: 'POST',
    path: '/1/feedback/recording-feedback',
    function: 'listenbrainz-api',
    access: 'write',
    auth: 'user-token',
    description: 'ListenBrainz: love (1), hate (-1) or withdraw (0) feedback on a recording.',
  },
] as const satisfies readonly RouteSpec[];

/**
 * The live dashboard's read-only endpoints, API routes like the ones above (same authorizer as the
 * read routes) served by `dashboard-stats`: in the cloud over CloudWatch and the event archive,
 * locally over the runtime's own Kafka consumer and counters (local/dashboard/). Kept apart from
 * `routes` because the local runtime serves them only with the dashboard (`dashboard: true`), and
 * the OpenAPI document and the fuzzing leave them out.
 */
export const dashboardRoutes = [
  {
    method: 'GET',
    path: '/api/stats',
    function: 'dashboard-stats',
    access: 'read',
    description: 'Pipeline health: event rate, consumer lag, errors, dead letters, genre mix.',
  },
  {
    method: 'GET',
    path: '/api/stream',
    function: 'dashboard-stats',
    access: 'read',
    description: 'Recent listen events, newest first, after a cursor (`since`).',
  },
  {
    method: 'GET',
    path: '/api/experiments',
    function: 'dashboard-stats',
    access: 'read',
    description:
      'Are recommendations working: hit rate per route and variant, hourly and in total, with 95 % intervals.',
  },
] as const satisfies readonly RouteSpec[];

const triggerDefaults = {
  retryAttempts: 3,
  bisectBatchOnError: true,
  maxRecordAgeSeconds: 6 * 60 * 60,
  reportBatchItemFailures: false,
  onFailure: 'dead-letters',
  startingPosition: 'TRIM_HORIZON',
} as const;

export const triggers = [
  {
    ...triggerDefaults,
    function: 'catalog-updater',
    topic: 'tracks',
    consumerGroupId: 'catalog-updater',
    batchSize: 500,
    maxBatchingWindowSeconds: 1,
  },
  {
    ...triggerDefaults,
    function: 'profile-updater',
    topic: 'listenEvents',
    consumerGroupId: 'profile-updater',
    batchSize: 1000,
    maxBatchingWindowSeconds: 0.5,
  },
  {
    ...triggerDefaults,
    function: 'neighbor-updater',
    topic: 'profileUpdates',
    consumerGroupId: 'neighbor-updater',
    batchSize: 200,
    // No window (Lambda allows 0 or whole seconds; MSK's default is 500 ms): event → neighbours is
    // the profile updater's window plus this one plus the work, and 0.5 s here kept the p99 above
    // 1.5 s (BENCHMARKS.md, fifth round). Records that arrive while a batch runs still form the
    // next batch, so under load cell reads are shared as before.
    maxBatchingWindowSeconds: 0,
  },
  {
    ...triggerDefaults,
    function: 'event-archiver',
    topic: 'listenEvents',
    // Its own group: archiving never competes with (or waits for) profile updates.
    consumerGroupId: 'event-archiver',
    batchSize: 1000,
    maxBatchingWindowSeconds: 1,
  },
  {
    ...triggerDefaults,
    function: 'recommendation-attributor',
    topic: 'servedLists',
    consumerGroupId: 'attribution-served',
    // A listener's lists that arrive within one batch share one item (one write): a page that
    // asks for recommendations and radio at once costs one write unit, not two.
    batchSize: 1000,
    maxBatchingWindowSeconds: 5,
  },
  {
    ...triggerDefaults,
    function: 'recommendation-attributor',
    topic: 'listenEvents',
    // Its own group: attribution never holds back the profiles.
    consumerGroupId: 'attribution-listens',
    batchSize: 1000,
    maxBatchingWindowSeconds: 2,
  },
] as const satisfies readonly TriggerSpec[];

/**
 * CloudWatch Logs subscriptions: lines of one function's log group delivered to another function
 * (in the cloud a subscription filter; locally the runtime reads the function's output the same
 * way). The served lists travel this way: writing a line costs the answer no request and no wait
 * (a Kafka produce or a DynamoDB put would add a round trip to every answer; BENCHMARKS.md,
 * attribution), and CloudWatch Logs bills the bytes ($0.50/GB).
 */
export interface LogSubscriptionSpec {
  readonly from: FunctionName;
  readonly to: FunctionName;
  /** The JSON key that marks the lines (one JSON object per line). */
  readonly field: string;
  /** CloudWatch Logs filter pattern selecting them. */
  readonly filterPattern: string;
  readonly description: string;
}

export const logSubscriptions = [
  {
    from: 'read-api',
    to: 'served-list-recorder',
    field: 'served',
    filterPattern: '{ $.served.v = 1 }',
    description: 'Each answer of the ranked routes: what was served, to whom, in which variant.',
  },
] as const satisfies readonly LogSubscriptionSpec[];

/**
 * Ranking variants (A/B tests). A listener's variant is a pure function of their id: bucket =
 * hash(salt, userId) mod `buckets`; each variant owns the buckets [from, to). Moving a boundary
 * reassigns only the buckets it moves over (declare shares as ranges, not percentages, for that
 * reason); buckets no variant owns get `control`. Overrides: the ranking's parameters
 * (shared/domain/ranking/params.ts) and the session part on or off. `RANKING_VARIANTS` (JSON, the
 * same shape as `variants`) replaces the list for a local run or an evaluation.
 */
export interface VariantSpec {
  readonly name: string;
  readonly from: number;
  readonly to: number;
  /** RankingParams fields to override (numbers; see shared/domain/ranking/params.ts). */
  readonly ranking?: Readonly<Record<string, number>>;
  /** The session ("now") part on (default) or off. */
  readonly session?: boolean;
  readonly description?: string;
}

export const experiments = {
  /** Change it to redraw every listener's bucket (a new experiment on fresh groups). */
  salt: 'tunestream-ranking-1',
  buckets: 1000,
  variants: [
    { name: 'control', from: 0, to: 1000, description: 'The tuned ranking (DEFAULT_RANKING), session on.' },
  ] as readonly VariantSpec[],
} as const;

export interface ScheduleSpec {
  readonly function: FunctionName;
  /** Minutes between runs in the cloud (an EventBridge rate rule). */
  readonly everyMinutes: number;
  /** Seconds between runs in the local runtime (short, so a local replay sees the model soon). */
  readonly localEverySeconds: number;
  readonly description: string;
  /**
   * In the cloud the rule starts the batch layer's state machine (Athena, then the function as
   * its loader; `batchLayer`) instead of invoking the function.
   */
  readonly cloudStateMachine?: boolean;
}

export const schedules = [
  {
    function: 'item-model-builder',
    // Item–item similarity moves slowly; a build scans the whole archive (Athena bills the bytes
    // scanned, docs/deploy.md), so hourly is the default, not minutes.
    everyMinutes: 60,
    localEverySeconds: 60,
    description: 'Rebuild the item model from the event archive (Athena in the cloud, DuckDB locally) and the catalog.',
    cloudStateMachine: true,
  },
] as const satisfies readonly ScheduleSpec[];

/**
 * The batch layer in the cloud (cdk/constructs/batch.ts): Glue tables over the archive (partition
 * projection), an Athena workgroup, a Step Functions state machine on the item model's schedule:
 * the loader's `prepare`, the item model's SQL parts (shared/batch/item-model-sql.ts) as UNLOADs
 * to Parquet — the staged ones in order, then the outputs in parallel — the loader's `load`.
 */
export const batchLayer = {
  /** Athena refuses a query past this many bytes scanned (100 GB ≈ $0.49 at $5/TB). */
  bytesScannedCutoffPerQuery: 100 * 1024 ** 3,
  /** Query results and UNLOAD output are kept this long (the loader reads them within minutes). */
  resultsExpireDays: 7,
  /** The whole build (queries and load) must finish within this. */
  timeoutMinutes: 120,
  /**
   * Partition projection bounds of the archive's year= partitions: what the archive can hold
   * (event time; ListenBrainz accepts listens from 2002-10-01 on, ingest nothing more than a day
   * ahead). Builds never enumerate this range: they filter on year and the hour key of their
   * window (shared/batch/window.ts), so Athena projects only the window's hours.
   */
  projectionYears: [2002, 2099],
  /**
   * How long a build holds its lease (the item-model table's `build#lease`): the state machine's
   * timeout and a margin, so a build that dies without releasing it blocks the next ones at most
   * this long. Overlapping builds would empty each other's output.
   */
  leaseSeconds: 125 * 60,
} as const;

/** Tunable behaviour shared by the functions; each can be overridden by an env var of the same name. */
export const settings = {
  /** Exponential decay half-life of profile scores. */
  PROFILE_HALF_LIFE_DAYS: 30,
  /** Top artists / tracks kept per profile (bounded heavy-hitter lists). */
  PROFILE_TOP_ARTISTS: 100,
  PROFILE_TOP_TRACKS: 100,
  /**
   * The session kept in each profile (`recent`): this many newest listening events. 20 covers an
   * hour or more of listening (the ranking's SESSION_WINDOW_MINUTES; 10 would cover ~40 minutes
   * of 4-minute tracks) at 4–6 bytes a listen (its ids and fingerprint are references into
   * the same item): on Last.fm's profiles +76–112 bytes, 1.875 → 1.904–1.917 write units per
   * profile write (10 would save 0.01–0.015 of them).
   */
  PROFILE_RECENT_LISTENS: 20,
  /**
   * Neighbours kept per user (and ranked from). 50 through the product on the validation split:
   * nDCG@10 0.2081 / 0.2137 / 0.2125 at 20 / 50 / 100 (`npm run eval -- … --pipeline`,
   * EVALUATION.md); a list is ~2–3 KB, one BatchGet of the user + 50 neighbours per recommendation.
   */
  NEIGHBORS_K: 50,
  /**
   * A user's neighbours (and candidate set) are refreshed at most this often… A new listener's
   * first refresh is immediate; what a minute's wait leaves out, the read path covers (fresh plays
   * are excluded at once) and the item model's hourly announcement refreshes in the end. 60 s
   * instead of 1 s: 0.233 instead of 0.38 refreshes per event (`npm run bench -- refreshRate`).
   */
  NEIGHBOR_REFRESH_MIN_INTERVAL_SECONDS: 60,
  /**
   * …and only when the profile moved at least this far (1 - cosine to the last refreshed snapshot):
   * about 8° of genre mix. 0.002 (~3.6°) refreshed 0.160 times per event, 0.01 0.098
   * (`npm run bench -- refreshRate`; at 1 M events 0.195 / 0.167 / 0.142 for 0.002 / 0.005 / 0.01),
   * and a refresh writes ~5 units: most of the ≤ $0.50 per million events (BENCHMARKS.md, cost). A
   * new listener's first refresh does not wait for it; the item model's announcement refreshes
   * every active listener hourly.
   */
  NEIGHBOR_REFRESH_MIN_DRIFT: 0.01,
  /**
   * A refreshed user's index entry is rewritten only when its cell changes, its strongest artists
   * change, or its genre vector drifted this far (1 − cosine) from what the entry holds.
   */
  NEIGHBOR_INDEX_MIN_DRIFT: 0.01,
  /** Neighbour index search budget per refresh: cells (one Query each) and index items read. */
  NEIGHBOR_MAX_CELLS: 64,
  NEIGHBOR_MAX_ITEMS: 5000,
  /**
   * Weights of the refresh's ranking score (`neighborScore`: genre cosine + artist-sketch cosine).
   * Defaults = the offline evaluation's tuned DEFAULT_SYSTEM (EVALUATION.md); genre 1 / artist 0
   * is the former genre-only ranking.
   */
  NEIGHBOR_GENRE_WEIGHT: 0.1,
  NEIGHBOR_ARTIST_WEIGHT: 0.5,
  /**
   * IDF exponent p of the artist-sketch cosine: each artist weighs listeners^−p (listener counts
   * from the item model; artists it does not know weigh 1). 0 turns it off. Chosen on the
   * validation split with the index search (EVALUATION.md).
   */
  NEIGHBOR_IDF_EXPONENT: 0.5,
  /** Also insert the refreshed user into its neighbours' lists when it now belongs there (1 = on). */
  NEIGHBOR_REVERSE_UPDATES: 1,
  /**
   * …into a list still filling (fewer than NEIGHBORS_K) whenever it belongs there, into a full one
   * only when it lands among the first this many: what GET /users/{id}/neighbors shows by default.
   * A reverse insertion rewrites the owner's list (a write unit) and never reaches the owner's
   * recommendations (its candidate set is rebuilt by its own refresh, which finds the entrant in
   * the index anyway). NEIGHBORS_K: every entrant, as before (1.05 → 0.74 insertions per refresh
   * in `npm run bench -- dynamodb`).
   */
  NEIGHBOR_REVERSE_FULL_LIST_TOP: 20,
  /** Ingest limits (API Gateway's own payload cap is 10 MB; ours is stricter). */
  INGEST_MAX_EVENTS: 500,
  INGEST_MAX_BYTES: 1_000_000,
  /** Largest Kafka record value the consumers accept; larger ones are dead-lettered. */
  MAX_RECORD_BYTES: 256 * 1024,
  /**
   * After a build, users active within this many days of the newest event (at most
   * ITEM_MODEL_ANNOUNCE_MAX_USERS) get their candidate sets rebuilt at once; the others on their
   * next play.
   */
  ITEM_MODEL_ANNOUNCE_ACTIVE_DAYS: 30,
  ITEM_MODEL_ANNOUNCE_MAX_USERS: 200_000,
  /**
   * A build reads the archive's newest hours, back at most this many days… Decay (half-life
   * PROFILE_HALF_LIFE_DAYS) leaves an event 90 days old 1/8 of a fresh one's weight; the profiles
   * keep the whole history, the item model the recent co-listening.
   */
  ITEM_MODEL_WINDOW_DAYS: 90,
  /**
   * …and at most this many GB of archive (JSON lines: what each Athena scan of `events` reads).
   * Bounds a build's bytes scanned, time and cost whatever the traffic: 10 GB is ~61 M events
   * (163 B each), the size of the 50 M-event benchmark world (BENCHMARKS.md, batch).
   */
  ITEM_MODEL_WINDOW_GB: 10,
  /** Neighbours kept per item in the item model: co-listening and tag content. */
  ITEM_MODEL_SIMILAR_K: 200,
  ITEM_MODEL_CONTENT_K: 30,
  /**
   * The batch layer's bounds (sql/item-model/): items per listener and kind that count (a
   * profile's capacity), the strongest of them that feed the co-listening pairs (the pair pass
   * costs Σ|u|²), the fewest listeners a pair needs, the tags per item that join the content pairs.
   */
  ITEM_MODEL_TOP_ITEMS: 100,
  ITEM_MODEL_PAIR_ITEMS: 50,
  ITEM_MODEL_MIN_SUPPORT: 1,
  ITEM_MODEL_CONTENT_TAGS: 30,
  /**
   * The loader rewrites a stored list only when some neighbour's weight moved by more than this
   * fraction of the list's top weight (or the list gained or lost a neighbour above it): new
   * events move every RP3beta weight a little (degrees, baskets), and a list within 2 % of the
   * build's serves the same recommendations (BENCHMARKS.md, "batch").
   */
  ITEM_MODEL_LIST_TOLERANCE: 0.02,
  /**
   * Candidates kept per kind in a user's precomputed set (what read-time ranking chooses from,
   * after excluding what the user just played and filtering by genre). 75 keeps a set of both
   * kinds under 1 KB, one write unit (100: ~1.23 KB, two; Last.fm replay, `eval --pipeline`).
   */
  RECOMMENDATION_CANDIDATES: 75,
  /** How long API Gateway (and the local runtime) caches a token's authorizer answer, seconds. */
  USER_TOKEN_CACHE_SECONDS: 60,
  RECOMMENDATIONS_DEFAULT_LIMIT: 20,
  RECOMMENDATIONS_MAX_LIMIT: 100,
  /** Items of one artist in an answer (recommendations, radio), unless `maxPerArtist` says otherwise. */
  RECOMMENDATIONS_MAX_PER_ARTIST: 2,
  /** Ids an `exclude` query parameter may name. */
  EXCLUDE_MAX_IDS: 100,
  /**
   * The session ("now") part of the ranking (shared/domain/ranking/session.ts): a play's weight
   * halves every SESSION_HALF_LIFE_MINUTES, plays older than SESSION_WINDOW_MINUTES are not part of
   * it, and it takes at most SESSION_MAX_STRENGTH of the answer's positions (reached as Σ weights passes
   * SESSION_SATURATION; one fresh play ≈ 0.44, three ≈ 0.67). A like weighs SESSION_LIKE_WEIGHT plays.
   */
  SESSION_HALF_LIFE_MINUTES: 15,
  SESSION_WINDOW_MINUTES: 60,
  SESSION_MAX_STRENGTH: 0.7,
  SESSION_SATURATION: 1,
  SESSION_LIKE_WEIGHT: 1.5,
  /** Radio: the share of the answer its seed (or session) takes; the long-term taste keeps the rest. */
  RADIO_SEED_STRENGTH: 0.8,
  /** Radio without a seed or a session: seeded by the listener's this many favourite items. */
  RADIO_FAVOURITE_SEEDS: 5,
  /**
   * A play counts for a list served to the same listener at most this many hours before it, when
   * the list holds its item (implicit attribution; a play that names the list's recommendationId
   * counts for that list within the same window).
   */
  ATTRIBUTION_WINDOW_HOURS: 24,
  /** Hit positions counted one by one up to this; later ones in one bucket. */
  ATTRIBUTION_POSITIONS: 20,
  /** Items a `similar` answer records per served list, and the longest list recorded. */
  SERVED_LIST_MAX_ITEMS: 100,
} as const;

export type ResolvedSettings = Settings;
export type Settings = { -readonly [K in keyof typeof settings]: (typeof settings)[K] extends number ? number : never };

/** Settings with env overrides applied (numbers only; a non-numeric override is an error, not a silent default). */
export function resolveSettings(env: Record<string, string | undefined> = process.env): Settings {
  const out = {} as Settings;
  for (const [key, fallback] of Object.entries(settings) as [keyof Settings, number][]) {
    const raw = env[key];
    if (raw === undefined || raw === '') {
      out[key] = fallback;
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new ConfigurationError(`setting ${key}=${JSON.stringify(raw)} is not a number`);
    out[key] = value;
  }
  return out;
}

/** Physical names for one deployment or test run: a prefix isolates parallel test files and stages. */
export interface ResolvedTopology {
  readonly prefix: string;
  readonly topicNames: Record<TopicKey, string>;
  readonly tableNames: Record<TableKey, string>;
}

export function resolveTopology(prefix = ''): ResolvedTopology {
  const topicNames = {} as Record<TopicKey, string>;
  for (const [key, spec] of Object.entries(topics) as [TopicKey, TopicSpec][])
    topicNames[key] = `${prefix}${spec.name}`;
  const tableNames = {} as Record<TableKey, string>;
  for (const [key, spec] of Object.entries(tables) as [TableKey, TableSpec][])
    tableNames[key] = `${prefix}${spec.name}`;
  return { prefix, topicNames, tableNames };
}

/**
 * Environment variable names through which a function learns its physical resource names.
 * The CDK stack sets them from the deployed resources; the local runtime from `resolveTopology`.
 */
export const topicEnvVar = (key: TopicKey): string => `TOPIC_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
export const tableEnvVar = (key: TableKey): string => `TABLE_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/** The env a function needs to find its topics and tables. */
export function resourceEnv(resolved: ResolvedTopology): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(topics) as TopicKey[]) env[topicEnvVar(key)] = resolved.topicNames[key];
  for (const key of Object.keys(tables) as TableKey[]) env[tableEnvVar(key)] = resolved.tableNames[key];
  return env;
}
