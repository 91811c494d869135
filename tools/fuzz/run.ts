/**
 * `npm run fuzz`: property-based fuzzing of the local HTTP API with schemathesis, against
 * openapi.json (served by the pipeline, generated as the committed file is). Creates a Python venv
 * under .data/venv (first run), starts Kafka, DynamoDB Local and the pipeline with a bearer token,
 * then runs schemathesis with the contract's checks: no server error, and every status, content
 * type and body as documented. Exit code is schemathesis's: CI runs a short seeded pass
 * (.ci/run), the default is the full one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { onShutdown, provisionTopology, startInfrastructure } from '../../local/infra/index.ts';
import { openApiRoute } from '../../local/openapi-route.ts';
import { startLocalPipeline } from '../../local/pipeline.ts';
import { createDocumentClient } from '../../shared/adapters/dynamodb/client.ts';
import { registerToken } from '../../shared/adapters/dynamodb/users.ts';
import { logKafkaClientsIn } from '../../shared/adapters/kafka-log.ts';
import { ensurePythonPackages, PYTHON_PACKAGES, venvBin } from '../python/venv.ts';

const SCHEMATHESIS = PYTHON_PACKAGES.schemathesis;
// The response side of the contract; `--checks all` adds the request side (refinements the
// document cannot express, such as the genre vocabulary, make some of those fail by design).
const DEFAULT_CHECKS =
  'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance';
const USAGE = `Usage: npm run fuzz -- [options]

Fuzzes the local HTTP API with schemathesis (${SCHEMATHESIS}, installed into .data/venv on first
use) using openapi.json: positive and negative cases for every operation, with the bearer token.

Options:
  --max-examples <n>  cases per operation and phase (default 150)
  --seed <n>          schemathesis seed (default 1)
  --workers <n>       concurrent schemathesis workers (default 1)
  --checks <list>     schemathesis checks (default ${DEFAULT_CHECKS})
  --report <dir>      where the JUnit/JSON reports go (default .data/fuzz-report)
Environment: PYTHON  interpreter for the venv (default: newest of python3.13, python3.12, python3)
  -h, --help          show this help
`;

const { values } = parseArgs({
  options: {
    'max-examples': { type: 'string', default: '150' },
    seed: { type: 'string', default: '1' },
    // One worker: on CPython 3.11 schemathesis's worker threads race in the AST constructor
    // (CPython gh-106905: "AST constructor recursion depth mismatch" errors), and on two cores a
    // second worker only competes with the API it is fuzzing.
    workers: { type: 'string', default: '1' },
    checks: { type: 'string', default: DEFAULT_CHECKS },
    report: { type: 'string', default: '.data/fuzz-report' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const log = (line: string) => process.stderr.write(`[fuzz] ${line}\n`);

ensurePythonPackages(['schemathesis'], log);
const schemathesis = venvBin('schemathesis');
const infra = await startInfrastructure({ log, logDir: '.data/fuzz-logs' });
log(`kafkajs logs to ${logKafkaClientsIn(infra.logDir)}`);
// The fuzzed events and deletions go to an archive of their own, not into the one `npm start` keeps.
const archiveDir = mkdtempSync(join(tmpdir(), 'tunestream-fuzz-'));
let stopPipeline: (() => Promise<void>) | undefined;
let child: ReturnType<typeof spawn> | undefined;
onShutdown(async () => {
  child?.kill('SIGINT');
  await stopPipeline?.();
  await infra.stop();
  rmSync(archiveDir, { recursive: true, force: true });
});
const topology = await provisionTopology(infra, `fuzz${randomBytes(3).toString('hex')}-`);
const token = randomBytes(16).toString('hex');
const pipeline = await startLocalPipeline({
  topology,
  kafkaBrokers: infra.kafkaBrokers,
  dynamodbEndpoint: infra.dynamodbEndpoint,
  port: 0,
  authToken: token,
  extraRoutes: [openApiRoute()],
  batchingWindowMs: 100,
  env: { ARCHIVE_DIR: archiveDir },
});
stopPipeline = pipeline.stop;
// The same token is also a listener's ListenBrainz token, so the /1/ routes are fuzzed past the authorizer.
await registerToken(
  {
    client: createDocumentClient({ endpoint: infra.dynamodbEndpoint, region: 'us-east-1' }),
    table: topology.tableNames.users,
  },
  'fuzz-listener',
  token,
);
log(`API on ${pipeline.url}; fuzzing with ${values['max-examples']} examples per operation…`);

const report = resolve(values.report!);
const args = [
  'run',
  `${pipeline.url}/openapi.json`,
  '--url',
  pipeline.url,
  '--header',
  `Authorization: Bearer ${token}`,
  '--checks',
  values.checks!,
  '--max-examples',
  values['max-examples']!,
  '--seed',
  values.seed!,
  '--workers',
  values.workers!,
  '--generation-database',
  'none',
  '--suppress-health-check',
  'all',
  '--report',
  'junit,json',
  '--report-dir',
  report,
  '--no-color',
];
const code = await new Promise<number>((done) => {
  child = spawn(schemathesis, args, { stdio: 'inherit' });
  child.on('exit', (c, signal) => done(c ?? (signal ? 130 : 1)));
});
child = undefined;
log(`schemathesis exited ${code}; reports in ${report}`);
await pipeline.stop();
stopPipeline = undefined;
await infra.stop();
rmSync(archiveDir, { recursive: true, force: true });
process.exit(code);
