/**
 * Child process for the api benchmark: autocannon at a fixed overall rate against
 * GET /users/{id}/recommendations (random user per request), so the load generator does not share
 * the event loop with the handlers it measures. argv: url rate seconds users; prints JSON.
 */
import autocannon from 'autocannon';

const [url, rate, seconds, users] = process.argv.slice(2);
const n = Number(users);
let i = 0;
const result = await autocannon({
  url: url!,
  connections: 16,
  overallRate: Number(rate),
  duration: Number(seconds),
  requests: [
    {
      method: 'GET',
      // A spread of users (heavy and light) in a fixed order: deterministic across runs.
      setupRequest: (req) => ({ ...req, path: `/users/u${(i++ * 7919) % n}/recommendations` }),
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    rps: result.requests.average,
  })}\n`,
);
