/**
 * The item model's SQL (`sql/item-model/*.sql`, one file per model part) and its parameters.
 * The same text runs on both engines: Athena (Trino) in the cloud, DuckDB embedded locally. The
 * files reference the source tables `events` (the archive), `deletions` (forgotten listeners) and
 * `item_tags` (the catalog's tag counts), and the staged parts `user_items`, `pair_items` and
 * `pair_basket` (STAGED_PARTS: DuckDB materializes them as tables; Athena UNLOADs them to Parquet
 * under Glue tables of the same names).
 *
 * Parameters are written into the text as literals (`{{name}}`): doubles in scientific notation
 * (DOUBLE literals in Trino, not DECIMAL) inside parentheses (so `-{{beta}}` stays an
 * expression), integers as they are (LIMIT takes nothing else).
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_ITEM_MODEL } from '../domain/item-model/item-model.ts';
import { DAY_MS } from '../domain/profile/profile.ts';
import { DEFAULT_WEIGHTS, type WeightConfig } from '../domain/profile/weights.ts';
import { ConfigurationError } from '../errors.ts';
import { ALL_HOURS, type BuildWindow } from './window.ts';

export const ITEM_MODEL_PARTS = [
  'user_items',
  'users',
  'listeners',
  'pair_items',
  'pair_basket',
  'similar',
  'content',
  'active_users',
] as const;
export type ItemModelPart = (typeof ITEM_MODEL_PARTS)[number];

/** The parts later parts read, in build order: DuckDB materializes them, Athena stages them (UNLOAD + a Glue table). */
export const STAGED_PARTS = ['user_items', 'pair_items', 'pair_basket'] as const;
export type StagedPart = (typeof STAGED_PARTS)[number];

/** The parts whose results the loader reads. */
export const OUTPUT_PARTS = ['users', 'listeners', 'similar', 'content', 'active_users'] as const;
export type OutputPart = (typeof OUTPUT_PARTS)[number];

/**
 * The co-listening pass split by item number (`i mod buckets = bucket`): one bucket for Athena
 * (distributed); on one machine, as many as keep each bucket's pair aggregate in memory.
 */
export interface PairBucket {
  buckets: number;
  bucket: number;
}
export const WHOLE: Readonly<PairBucket> = Object.freeze({ buckets: 1, bucket: 0 });

export interface ItemModelSqlParams {
  /** Items per user and kind that count (listeners; the profile's own capacity). */
  topItems: number;
  /** A user's strongest items that feed the co-listening pairs (the pair pass costs Σ|u|²). */
  pairItems: number;
  /** Pairs seen by fewer users are dropped. */
  minSupport: number;
  alpha: number;
  beta: number;
  /** Co-listening neighbours kept per item. */
  similarK: number;
  /** Content neighbours kept per item, and the tags per item that join the content pairs. */
  contentK: number;
  contentTags: number;
  halfLifeDays: number;
  /** Announcement: users active within this many days of the newest event, at most this many. */
  activeDays: number;
  maxActiveUsers: number;
  weights: WeightConfig;
  /** The archive's hours a build reads (window.ts); every hour when absent. */
  window?: Readonly<Pick<BuildWindow, 'fromHour' | 'toHour'>>;
}

export const DEFAULT_ITEM_MODEL_SQL: Readonly<ItemModelSqlParams> = Object.freeze({
  topItems: 100,
  pairItems: 50,
  minSupport: 1,
  alpha: DEFAULT_ITEM_MODEL.alpha,
  beta: DEFAULT_ITEM_MODEL.beta,
  similarK: DEFAULT_ITEM_MODEL.topK,
  contentK: DEFAULT_ITEM_MODEL.contentTopK,
  contentTags: 30,
  halfLifeDays: 30,
  activeDays: 30,
  maxActiveUsers: 200_000,
  weights: DEFAULT_WEIGHTS,
});

const SQL_DIR = new URL('../../sql/item-model/', import.meta.url);

/** The file's text as it is in the repo (placeholders not yet filled). */
export function sqlTemplate(part: ItemModelPart): string {
  return readFileSync(new URL(`${part}.sql`, SQL_DIR), 'utf8');
}

function double(x: number): string {
  if (!Number.isFinite(x)) throw new ConfigurationError(`SQL parameter must be finite, got ${x}`);
  return `(${x.toExponential().toUpperCase().replace('E+', 'E')})`;
}

function integer(x: number): string {
  if (!Number.isSafeInteger(x) || x < 0)
    throw new ConfigurationError(`SQL parameter must be a non-negative integer, got ${x}`);
  return String(x);
}

/**
 * The placeholders a build fills at run time (its window): literals locally, `?` execution
 * parameters on Athena (the state machine passes the values the loader's `prepare` chose).
 */
export const RUN_TIME_PARAMS = ['window_from_year', 'window_to_year', 'window_from_hour', 'window_to_hour'] as const;
export type RunTimeParam = (typeof RUN_TIME_PARAMS)[number];

/** The window's placeholders as SQL literals (varchar: the partition columns are strings). */
export function windowSqlValues(
  window: Readonly<Pick<BuildWindow, 'fromHour' | 'toHour'>>,
): Record<RunTimeParam, string> {
  for (const h of [window.fromHour, window.toHour])
    if (!/^\d{10}$/.test(h)) throw new ConfigurationError(`window hour must be YYYYMMDDHH, got ${JSON.stringify(h)}`);
  return {
    window_from_year: `'${window.fromHour.slice(0, 4)}'`,
    window_to_year: `'${window.toHour.slice(0, 4)}'`,
    window_from_hour: `'${window.fromHour}'`,
    window_to_hour: `'${window.toHour}'`,
  };
}

/** Placeholder → literal. */
export function sqlValues(
  p: Readonly<ItemModelSqlParams>,
  pairs: Readonly<PairBucket> = WHOLE,
): Record<string, string> {
  const w = p.weights;
  if (!(pairs.buckets >= 1 && pairs.bucket >= 0 && pairs.bucket < pairs.buckets))
    throw new ConfigurationError(`pair bucket ${pairs.bucket} of ${pairs.buckets} is out of range`);
  return {
    pair_buckets: integer(pairs.buckets),
    pair_bucket: integer(pairs.bucket),
    top_n: integer(p.topItems),
    pair_top_n: integer(p.pairItems),
    min_support: integer(p.minSupport),
    alpha: double(p.alpha),
    beta: double(p.beta),
    top_k: integer(p.similarK),
    content_k: integer(p.contentK),
    content_tags: integer(p.contentTags),
    decay_per_ms: double(Math.LN2 / (p.halfLifeDays * DAY_MS)),
    active_ms: integer(Math.round(p.activeDays * DAY_MS)),
    max_users: integer(p.maxActiveUsers),
    rating_scale: double(w.ratingScale),
    play_default: double(w.playDefault),
    play_base: double(w.playBase),
    play_completion: double(w.playCompletion),
    short_play_ms: integer(w.shortPlayMs),
    short_play: double(w.shortPlay),
    skip: double(w.skip),
    like: double(w.like),
    dislike: double(w.dislike),
    ...windowSqlValues(p.window ?? ALL_HOURS),
  };
}

/** Fills `{{name}}` placeholders; an unknown or unused-but-missing name is an error. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new ConfigurationError(`no value for SQL parameter {{${name}}}`);
    return v;
  });
}

/** One part's query with the parameters filled in (it may read earlier parts as tables). */
export function itemModelQuery(
  part: ItemModelPart,
  p: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL,
  pairs: Readonly<PairBucket> = WHOLE,
): string {
  return fillTemplate(sqlTemplate(part), sqlValues(p, pairs)).trim();
}

/**
 * A part's query as Athena gets it (one statement inside an UNLOAD: no comments, the whole pair
 * pass, `?` where the run-time placeholders were, in the order `partRunParams` gives).
 */
export function partQuery(part: ItemModelPart, p: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL): string {
  const values: Record<string, string> = sqlValues(p);
  for (const name of RUN_TIME_PARAMS) values[name] = '?';
  return stripComments(fillTemplate(sqlTemplate(part), values).trim());
}

/** The run-time placeholders of a part, in the order its `?` parameters occur. */
export function partRunParams(part: ItemModelPart): RunTimeParam[] {
  const text = stripComments(sqlTemplate(part));
  return [...text.matchAll(/\{\{(\w+)\}\}/g)]
    .map((m) => m[1]!)
    .filter((name): name is RunTimeParam => (RUN_TIME_PARAMS as readonly string[]).includes(name));
}

/** Drops `--` line comments (whole lines only: the files keep comments on their own lines). */
export function stripComments(sql: string): string {
  return sql
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--'))
    .join('\n')
    .trim();
}

/** The parameters from the topology's settings (each overridable by env). */
export function itemModelSqlParams(
  s: Readonly<{
    ITEM_MODEL_TOP_ITEMS: number;
    ITEM_MODEL_PAIR_ITEMS: number;
    ITEM_MODEL_MIN_SUPPORT: number;
    ITEM_MODEL_SIMILAR_K: number;
    ITEM_MODEL_CONTENT_K: number;
    ITEM_MODEL_CONTENT_TAGS: number;
    PROFILE_HALF_LIFE_DAYS: number;
    ITEM_MODEL_ANNOUNCE_ACTIVE_DAYS: number;
    ITEM_MODEL_ANNOUNCE_MAX_USERS: number;
  }>,
): ItemModelSqlParams {
  return {
    ...DEFAULT_ITEM_MODEL_SQL,
    topItems: s.ITEM_MODEL_TOP_ITEMS,
    pairItems: s.ITEM_MODEL_PAIR_ITEMS,
    minSupport: s.ITEM_MODEL_MIN_SUPPORT,
    similarK: s.ITEM_MODEL_SIMILAR_K,
    contentK: s.ITEM_MODEL_CONTENT_K,
    contentTags: s.ITEM_MODEL_CONTENT_TAGS,
    halfLifeDays: s.PROFILE_HALF_LIFE_DAYS,
    activeDays: s.ITEM_MODEL_ANNOUNCE_ACTIVE_DAYS,
    maxActiveUsers: s.ITEM_MODEL_ANNOUNCE_MAX_USERS,
  };
}
