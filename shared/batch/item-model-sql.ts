/**
 * The item model's SQL (`sql/item-model/*.sql`, one file per model part) and its parameters.
 * The same text runs on both engines: Athena (Trino) in the cloud, DuckDB embedded locally. The
 * files reference four tables: `events` (the archive), `deletions` (forgotten listeners),
 * `item_tags` (the catalog's tag counts) and `user_items` (the first part's result, which the
 * later parts read: DuckDB materializes it, Athena gets it as a WITH clause — see `composed`).
 *
 * Parameters are written into the text as literals (`{{name}}`): doubles in scientific notation
 * (DOUBLE literals in Trino, not DECIMAL) inside parentheses (so `-{{beta}}` stays an
 * expression), integers as they are (LIMIT takes nothing else).
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_ITEM_MODEL } from '../domain/item-model.ts';
import { DAY_MS } from '../domain/profile.ts';
import { DEFAULT_WEIGHTS, type WeightConfig } from '../domain/weights.ts';
import { ConfigurationError } from '../errors.ts';

export const ITEM_MODEL_PARTS = ['user_items', 'users', 'listeners', 'similar', 'content', 'active_users'] as const;
export type ItemModelPart = (typeof ITEM_MODEL_PARTS)[number];

/** The parts that read `user_items` (the rest read the source tables only). */
export const READS_USER_ITEMS: readonly ItemModelPart[] = ['users', 'listeners', 'similar'];

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

/** Placeholder → literal. */
export function sqlValues(p: Readonly<ItemModelSqlParams>): Record<string, string> {
  const w = p.weights;
  return {
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

/** One part's query with the parameters filled in (it may read `user_items` as a table). */
export function itemModelQuery(part: ItemModelPart, p: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL): string {
  return fillTemplate(sqlTemplate(part), sqlValues(p)).trim();
}

/**
 * A part as one self-contained query (for Athena, where each part is its own UNLOAD): `user_items`
 * comes in as a WITH clause around the part's own query.
 */
export function composed(part: ItemModelPart, p: Readonly<ItemModelSqlParams> = DEFAULT_ITEM_MODEL_SQL): string {
  const own = itemModelQuery(part, p);
  if (!READS_USER_ITEMS.includes(part)) return stripComments(own);
  return `WITH user_items AS (\n${stripComments(itemModelQuery('user_items', p))}\n)\nSELECT * FROM (\n${stripComments(own)}\n) part`;
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
