/**
 * GET /api/stats, /api/stream and /api/experiments in the cloud: the live dashboard's read-only
 * endpoints, the dashboard-stats function (dashboard.ts) over CloudWatch metrics, the newest
 * archived events and the attribution counters (cloud-sources.ts). The local runtime runs the
 * same function over its own Kafka consumer and counters (local/dashboard/), and the same
 * counters table.
 *
 * @routes GET /api/stats, GET /api/stream, GET /api/experiments
 */
import { cloudSources } from './cloud-sources.ts';
import { dashboardStatsHandler } from './dashboard.ts';

export const handler = dashboardStatsHandler(cloudSources());
