/**
 * The experiment the functions run: the topology's variants, or `RANKING_VARIANTS` (JSON, the same
 * shape) for a local run or an evaluation. Checked once per container; a bad declaration is a
 * configuration error at the first request, naming the variant and field.
 */
import { type Experiment, experimentProblems, type Variant, variantOf } from '../domain/experiments/variants.ts';
import { ConfigurationError } from '../errors.ts';
import { experiments } from '../topology.ts';

let cached: { raw: string | undefined; experiment: Experiment } | undefined;

export function experimentFromEnv(env: Record<string, string | undefined> = process.env): Experiment {
  const raw = env.RANKING_VARIANTS?.trim() || undefined;
  if (cached && cached.raw === raw) return cached.experiment;
  let experiment: Experiment = experiments;
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw new ConfigurationError(`RANKING_VARIANTS is not JSON: ${(err as Error).message}`);
    }
    const variants = Array.isArray(parsed) ? parsed : (parsed as { variants?: unknown })?.variants;
    if (!Array.isArray(variants)) throw new ConfigurationError('RANKING_VARIANTS must be a list of variants');
    const salt = (!Array.isArray(parsed) && (parsed as { salt?: unknown }).salt) || experiments.salt;
    experiment = { salt: String(salt), buckets: experiments.buckets, variants: variants as Variant[] };
  }
  const problems = experimentProblems(experiment);
  if (problems.length > 0) throw new ConfigurationError(`ranking variants: ${problems.join('; ')}`);
  cached = { raw, experiment };
  return experiment;
}

/** The listener's variant under the container's experiment. */
export const listenerVariant = (userId: string): Variant => variantOf(userId, experimentFromEnv());
