/**
 * What GET /api/stats and GET /api/stream answer: one definition for the dashboard-stats function
 * (over the cloud's sources and the local runtime's alike) and for the page, whose
 * dashboard/src/api.ts imports these types. Types only, no imports: the page's build (DOM, no
 * Node types) reads this file as it is.
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
