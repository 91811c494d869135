/**
 * Pure pieces of the cdk/ code that need no synthesis: context parsing, batching-window mapping and
 * the topic provisioner's plan/props parsing.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, DockerImage, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../cdk/build-app.ts';
import { configFromContext } from '../../cdk/config.ts';
import { dashboardBundler } from '../../cdk/constructs/dashboard-site.ts';
import { batchingWindow } from '../../cdk/constructs/functions.ts';
import { parseProps, planTopics } from '../../cdk/custom-resources/topic-provisioner.ts';
import { readViolations } from './synth.ts';

const config = (context: Record<string, string>) => configFromContext(new App({ context }).node);

describe('context', () => {
  it('defaults to dev + MSK Serverless, no JWT', () => {
    expect(config({})).toMatchObject({
      stage: 'dev',
      msk: 'serverless',
      capacity: 'on-demand',
      jwt: undefined,
      deletionProtection: false,
    });
    expect(config({ capacity: 'provisioned' }).capacity).toBe('provisioned');
  });

  it('prod, provisioned, JWT', () => {
    expect(
      config({ stage: 'prod', msk: 'provisioned', jwtIssuer: 'https://issuer.example/', jwtAudience: 'a, b' }),
    ).toMatchObject({
      stage: 'prod',
      msk: 'provisioned',
      jwt: { issuer: 'https://issuer.example/', audience: ['a', 'b'] },
      deletionProtection: true,
    });
  });

  it('3 AZs (brokers, replicas) in prod, 2 in dev; replication factor explicit when provisioned', () => {
    expect(config({})).toMatchObject({ azCount: 2, topicReplicationFactor: -1 });
    expect(config({ msk: 'provisioned' })).toMatchObject({ azCount: 2, topicReplicationFactor: 2 });
    expect(config({ stage: 'prod', msk: 'provisioned' })).toMatchObject({ azCount: 3, topicReplicationFactor: 3 });
    expect(config({ stage: 'prod' })).toMatchObject({ azCount: 3, topicReplicationFactor: -1 });
    expect(() => config({ azs: '4' })).toThrow(/azs/);
  });

  it('rejects unknown values and half a JWT configuration', () => {
    expect(() => config({ stage: 'staging' })).toThrow(/stage/);
    expect(() => config({ msk: 'express' })).toThrow(/msk/);
    expect(() => config({ capacity: 'reserved' })).toThrow(/capacity/);
    expect(() => config({ batchEveryMinutes: '5' })).toThrow(/batchEveryMinutes/);
    expect(config({}).batchEveryMinutes).toBe(60);
    expect(config({ batchEveryMinutes: '1440' }).batchEveryMinutes).toBe(1440);
    expect(() => config({ jwtIssuer: 'https://issuer.example/' })).toThrow(/jwtAudience/);
    expect(() => config({ jwtIssuer: 'http://insecure', jwtAudience: 'a' })).toThrow(/https/);
  });
});

describe('batchingWindow', () => {
  it('whole seconds map through; 0.5 s is Lambda’s Kafka default (left unset); other fractions fail', () => {
    expect(batchingWindow(1)?.toSeconds()).toBe(Duration.seconds(1).toSeconds());
    expect(batchingWindow(0)?.toSeconds()).toBe(0);
    expect(batchingWindow(0.5)).toBeUndefined();
    expect(() => batchingWindow(1.5)).toThrow();
    expect(() => batchingWindow(301)).toThrow();
  });
});

describe('topic provisioner', () => {
  const desired = [
    { name: 'a', partitions: 6, retentionMs: 1000 },
    { name: 'b', partitions: 3, retentionMs: 2000 },
    { name: 'c', partitions: 1, retentionMs: 3000 },
  ];

  it('creates missing topics, grows short ones, re-configures existing ones', () => {
    const plan = planTopics(
      desired,
      new Map([
        ['a', { partitions: 3, retentionMs: 1000 }],
        ['b', { partitions: 3, retentionMs: 9999 }],
      ]),
    );
    expect(plan.create).toEqual([desired[2]]);
    expect(plan.grow).toEqual([{ topic: 'a', count: 6 }]);
    // Only b's retention differs.
    expect(plan.configure.map((t) => t.name)).toEqual(['b']);
    expect(planTopics(desired, new Map(desired.map((t) => [t.name, t])))).toEqual({
      create: [],
      grow: [],
      configure: [],
    });
  });

  it('refuses to shrink a topic', () => {
    expect(() => planTopics(desired, new Map([['a', { partitions: 12 }]]))).toThrow(/cannot shrink/);
  });

  it('parses CloudFormation properties (numbers arrive as strings)', () => {
    expect(
      parseProps({
        clusterArn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
        brokers: 'b-1:9098,b-2:9098',
        replicationFactor: '3',
        topics: [{ name: 'a', partitions: '6', retentionMs: '1000' }],
      }),
    ).toEqual({
      clusterArn: 'arn:aws:kafka:eu-west-1:1:cluster/c/u',
      brokers: 'b-1:9098,b-2:9098',
      replicationFactor: 3,
      topics: [{ name: 'a', partitions: 6, retentionMs: 1000 }],
    });
    const valid = { clusterArn: 'x', brokers: 'y', replicationFactor: '-1' };
    expect(parseProps({ ...valid, topics: [{ name: 'a', partitions: 1, retentionMs: 1 }] }).replicationFactor).toBe(-1);
    expect(() => parseProps({ ...valid, topics: [] })).toThrow();
    expect(() => parseProps({ ...valid, topics: [{ name: 'a', partitions: '0' }] })).toThrow();
    // The replication factor is explicit: missing or 0 is an error, not kafkajs's silent default.
    const topic = [{ name: 'a', partitions: 1, retentionMs: 1 }];
    expect(() => parseProps({ clusterArn: 'x', brokers: 'y', topics: topic })).toThrow(/replicationFactor/);
    expect(() => parseProps({ ...valid, replicationFactor: '0', topics: topic })).toThrow(/replicationFactor/);
  });
});

describe('cdk-nag harness (negative control)', () => {
  it('an unacknowledged finding fails synthesis and shows up in the report the stack tests read', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'tunestream-nag-'));
    const app = new App({ outdir });
    new s3.Bucket(new Stack(app, 'Bad'), 'Bucket'); // no access logs, no SSL enforcement
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
    expect(readViolations(outdir).map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']),
    );
  });
});

describe('dashboard build at synth time', () => {
  it('a named prebuilt dashboard without a build stops synthesis with the command that makes it', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tunestream-no-dashboard-'));
    expect(() => buildApp({ context: { dashboardDist: dir }, outdir: dir })).toThrow(/npm run dashboard:build/);
  });

  it('without one, the dashboard is an asset bundled from its sources (a fresh checkout synthesizes)', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'tunestream-fresh-'));
    // Bundling skipped, as `cdk synth --exclusively` of another stack would: no dist is needed.
    const { app, stack } = buildApp({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
    expect(stack.config.dashboardDist).toBeUndefined();
    app.synth();
    const [deployment] = Object.values(Template.fromStack(stack).findResources('Custom::CDKBucketDeployment'));
    expect(deployment?.Properties.SourceObjectKeys).toHaveLength(1);
  });

  it('the bundler builds the dashboard with vite into the asset directory', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'tunestream-dashboard-asset-'));
    expect(dashboardBundler.tryBundle(out, { image: DockerImage.fromRegistry('unused') })).toBe(true);
    expect(readFileSync(path.join(out, 'index.html'), 'utf8')).toMatch(/<script type="module"[^>]*src="\/assets\//);
    expect(readdirSync(path.join(out, 'assets')).some((f) => f.endsWith('.js'))).toBe(true);
  }, 180_000);
});
