/**
 * One place for how every Node.js function is built: runtime, architecture and esbuild bundling
 * (local esbuild from node_modules, never Docker).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Newest Node.js runtime aws-cdk-lib 2.276 offers that Lambda runs (GA since Nov 2025). */
export const RUNTIME = lambda.Runtime.NODEJS_24_X;
export const ARCHITECTURE = lambda.Architecture.ARM_64;

export const BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  platform: 'node',
  mainFields: ['module', 'main'],
  // ESM output still meets CommonJS dependencies (kafkajs) that call require() for Node built-ins.
  banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Bundle the AWS SDK too: the versions pinned in package-lock.json are the ones tested.
  externalModules: [],
  tsconfig: path.join(REPO_ROOT, 'tsconfig.json'),
};

export function nodeFunctionDefaults(
  scope: Construct,
  id: string,
  props: Omit<nodejs.NodejsFunctionProps, 'runtime' | 'architecture' | 'bundling' | 'projectRoot' | 'depsLockFilePath'>,
): nodejs.NodejsFunction {
  return new nodejs.NodejsFunction(scope, id, {
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    projectRoot: REPO_ROOT,
    depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
    bundling: BUNDLING,
    ...props,
    environment: {
      NODE_OPTIONS: '--enable-source-maps',
      ...props.environment,
    },
  });
}
