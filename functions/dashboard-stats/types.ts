/**
 * What GET /api/stats, /api/stream and /api/experiments answer: one definition for the
 * dashboard-stats function (over the cloud's sources and the local runtime's alike) and for the
 * page, whose dashboard/src/api.ts imports these types. Types only, no imports: the page's build
 * (DOM, no Node types) reads this file as it is.
 */

/** One listen event as the dashboard shows it. */
export interface StreamEvent {
  /** The stream's cursor: grows with arrival; the page passes the largest it has seen as `since`. */
  seq: number;
  /**
   * When the pipeline received it (epoch ms): Kafka's append time locally, the archive object's
   * write time in the cloud. `ts` is when the listen happened.
   */
  receivedAt: number;
  /** The event's idempotency key: the stream shows each listen once. */
  eventId: string;
  userId: string;
  trackId: string | null;
  artistId: string | null;
  /** The event's own names, else the catalog track's. */
  title: string | null;
  artistName: string | null;
  /** The track's primary genre, else its artist's; null when the catalog knows neither. */
  genre: string | null;
  /** `play | skip | like | dislike`, or `playing_now` for a now-playing notice (shown, never counted). */
  type: string;
  ts: number;
  platform: string | null;
  country: string | null;
  mood: string | null;
}

/** GET /api/stream: matching events newest first; `cursor` is the next poll's `since`. */
export interface StreamPage {
  cursor: number;
  events: StreamEvent[];
}

/** One Kafka trigger's health. */
export interface TriggerHealth {
  function: string;
  topic: string;
  /** Lag per partition where it is known (locally); the cloud reports the mapping's largest as `totalLag` only. */
  lag: Record<string, number>;
  totalLag: number;
  failures: number;
  deadLettered: number;
  /** Locally only: the emulated mapping's consumer group and counters. */
  groupId?: string;
  batches?: number;
  records?: number;
  inFlight?: number;
}

/** A dead letter as shown: its reason and where the bad record is (never its bytes). */
export interface DeadLetterShown {
  reason: string;
  sourceTopic: string;
  partition: number;
  offset: number;
  failedAt: number;
  function?: string;
  error?: string;
}

/** Pipeline health: what a metrics source reports (CloudWatch in the cloud, the runtime's counters locally). */
export interface Health {
  totalEvents: number;
  eventsPerSecond: number;
  /** Events per second, oldest first. */
  rateSeries: number[];
  triggers: TriggerHealth[];
  deadLetters: { count: number; byReason: Record<string, number>; latest: DeadLetterShown[] };
  errors: { at: number; source: string; message: string }[];
}

/** Listen events of one genre in the window, with its most played tracks. */
export interface GenreCount {
  genre: string;
  count: number;
  topTracks: { trackId: string; title: string | null; artistName: string | null; plays: number }[];
}

/** GET /api/stats. */
export interface Stats extends Health {
  now: number;
  genreWindowSeconds: number;
  /** Most events first; events whose genre is not known count as `unknown`. */
  genres: GenreCount[];
  /** The values the page offers as filters. */
  facets: { platforms: string[]; countries: string[] };
}

// ---------------------------------------------------------------------------------------------
// GET /api/experiments

/** A rate with its 95 % Wilson interval (shared/domain/experiments/confidence.ts). */
export interface RateInterval {
  rate: number;
  low: number;
  high: number;
}

/** Lists served and lists with a hit, and their hit rate. */
export interface HitCounts {
  served: number;
  hitLists: number;
  hitRate: RateInterval;
}

/** One hour of one route and variant; `hour` is the hour's start (epoch ms). */
export interface HourlyHitRate extends HitCounts {
  hour: number;
}

/** One route and variant over the window, all strategies together. */
export interface RouteVariantReport extends HitCounts {
  route: string;
  variant: string;
  /** Plays attributed to the lists (counted by the list's hour). */
  plays: number;
  /** Of those, plays that named the list's recommendationId. */
  explicit: number;
  /** Attributed plays by the hit's position: p1, p2, … and pMore (only positions with plays). */
  positions: Record<string, number>;
  /** Hours with lists served or hits, oldest first; hours without are left out. */
  hourly: HourlyHitRate[];
  /** The same per ranking strategy, most lists served first. */
  strategies: (HitCounts & { strategy: string; plays: number })[];
}

/** One variant's listening: all plays of its listeners, and those attributed to a served list. */
export interface ListeningShare {
  variant: string;
  plays: number;
  recPlays: number;
  share: RateInterval;
}

/**
 * A variant against control on one route's hit rate, or on the share of listening (route `*`).
 * `apart`: the two 95 % intervals do not overlap; `lift`: rate / control's rate − 1 (null when
 * control's rate is 0).
 */
export interface VariantComparison {
  route: string;
  variant: string;
  against: 'control';
  apart: boolean;
  lift: number | null;
}

/** GET /api/experiments: are recommendations working, per route and variant. */
export interface ExperimentsReport {
  /** The window: the start of its first hour and the end of its last (the current) hour, epoch ms. */
  from: number;
  to: number;
  /**
   * Hours a play can still be attributed to a list after it was served: hit rates of the lists
   * served within this many hours of now are still growing.
   */
  attributionWindowHours: number;
  /** The running experiment's variants and their shares of listeners. */
  variants: { name: string; share: number }[];
  routes: RouteVariantReport[];
  listening: ListeningShare[];
  comparisons: VariantComparison[];
}
