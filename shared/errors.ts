/**
 * The failures the functions classify, one class each, so logs and alarms tell a retryable
 * failure from a bug by `name` (a plain `Error` is a bug). Each takes Error's `{ cause }` option
 * for the underlying error. Answers to HTTP clients are not here: they carry their response
 * (`HttpError` in shared/handlers/http.ts, `LbBadRequest` in shared/domain/events/listenbrainz.ts).
 */

/** The environment lacks a setting or holds an invalid one: a deployment fault, retrying does not help. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
}

/** A store kept throttling after the retries we allow: retryable later (the batch is retried). */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
}

/** Optimistic-concurrency writes kept losing their race after the rounds we allow: retryable. */
export class WriteConflictError extends Error {
  override readonly name = 'WriteConflictError';
}

/** A store refused a write for a reason that is neither a lost race nor throttling: not retryable. */
export class WriteRejectedError extends Error {
  override readonly name = 'WriteRejectedError';
}

/** Stored data is not what its own manifest says (e.g. a shard of a build is missing). */
export class DataIntegrityError extends Error {
  override readonly name = 'DataIntegrityError';
}

/** A stored or packed value cannot be decoded (truncated, unknown version) or encoded. */
export class CodecError extends Error {
  override readonly name = 'CodecError';
}

/** Producing to Kafka did not finish within its deadline: retryable (the HTTP answer is a 503). */
export class ProduceTimeoutError extends Error {
  override readonly name = 'ProduceTimeoutError';
}
