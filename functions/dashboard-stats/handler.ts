/**
 * GET /api/stats and GET /api/stream in the cloud: the live dashboard's read-only endpoints, the
 * dashboard-stats function (dashboard.ts) over CloudWatch metrics and the newest archived events
 * (cloud-sources.ts). The local runtime runs the same function over its own Kafka consumer and
 * counters (local/dashboard/).
 *
 * @routes GET /api/stats, GET /api/stream
 */
import { cloudSources } from './cloud-sources.ts';
import { dashboardStatsHandler } from './dashboard.ts';

export const handler = dashboardStatsHandler(cloudSources());
