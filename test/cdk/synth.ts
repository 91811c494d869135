/**
 * Test helper: synthesizes the app exactly like `cdk synth` does (same builder, same cdk.json context,
 * cdk-nag plugin attached) and exposes the template plus the policy-validation report.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../cdk/build-app.ts';
import { REPO_ROOT } from '../../cdk/constructs/function-defaults.ts';
import type { TunestreamStack } from '../../cdk/tunestream-stack.ts';

/** A stand-in dashboard build, so the tests do not depend on `npm run dashboard:build` having run. */
export const DASHBOARD_FIXTURE = path.join(REPO_ROOT, 'test/cdk/fixtures/dashboard-dist');

export interface Violation {
  readonly ruleName: string;
  readonly severity: string;
  readonly constructs: readonly string[];
}

export interface Synthesized {
  readonly stack: TunestreamStack;
  readonly template: Template;
  /** Error thrown by app.synth() (e.g. unacknowledged cdk-nag errors), if any. */
  readonly synthError?: unknown;
  /** Every violation in the validation report (errors and warnings), i.e. unacknowledged findings. */
  readonly violations: readonly Violation[];
  /** Logical id of a construct's CloudFormation resource. */
  readonly logicalId: (c: IConstruct) => string;
  /** The cloud assembly directory (templates and the function bundles as assets). */
  readonly outdir: string;
}

interface ValidationReport {
  pluginReports: {
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/** Violations (errors and warnings) in the policy-validation report of a cloud assembly directory. */
export function readViolations(outdir: string): Violation[] {
  const reportFile = path.join(outdir, 'validation-report.json');
  const violations: Violation[] = [];
  if (!existsSync(reportFile)) return violations;
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ValidationReport;
  for (const plugin of report.pluginReports)
    for (const v of plugin.violations)
      violations.push({
        ruleName: v.ruleName,
        severity: v.severity,
        constructs: v.violatingConstructs.map((c) => c.constructPath),
      });
  return violations;
}

export function synthesize(context: Record<string, string> = {}): Synthesized {
  const cdkJson = JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const outdir = mkdtempSync(path.join(tmpdir(), 'tunestream-cdk-'));
  const { app, stack } = buildApp({
    context: { ...cdkJson.context, dashboardDist: DASHBOARD_FIXTURE, ...context },
    outdir,
  });
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  const violations = readViolations(outdir);
  if (synthError) {
    // Keep the assertions meaningful: surface why synthesis failed.
    return {
      stack,
      template: undefined as unknown as Template,
      synthError,
      violations,
      logicalId: () => '',
      outdir,
    };
  }
  const template = Template.fromStack(stack);
  const logicalId = (c: IConstruct) => {
    const cfn = (c.node.defaultChild ?? c) as CfnResource;
    return stack.getLogicalId(cfn);
  };
  return { stack, template, synthError, violations, logicalId, outdir };
}

/** The single element of a list (fails loudly otherwise). */
export function only<T>(items: readonly T[]): T {
  if (items.length !== 1) throw new Error(`expected exactly one element, got ${items.length}`);
  return items[0] as T;
}

/** Resources of one type as [logicalId, resource] pairs. */
export function resourcesOf(
  template: Template,
  type: string,
): [string, { Properties: Record<string, unknown>; DependsOn?: string[] }][] {
  return Object.entries(template.findResources(type)) as [
    string,
    { Properties: Record<string, unknown>; DependsOn?: string[] },
  ][];
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** All statements of the inline/default policies attached to a role (by role logical id). */
export function statementsForRole(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const [, policy] of resourcesOf(template, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties.Roles as { Ref: string }[]) ?? [];
    if (!roles.some((r) => r.Ref === roleLogicalId)) continue;
    const doc = policy.Properties.PolicyDocument as { Statement: Statement[] };
    out.push(...doc.Statement);
  }
  return out;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesOfStatement = (s: Statement): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];

/**
 * The trailing literal of a Fn::Join ARN (e.g. `/listen-events` of a topic ARN) and the resource type
 * segment (`:topic/`, `:group/`). Returns undefined for non-join resources.
 */
export function describeJoinArn(resource: unknown): { kind?: string; suffix?: string } | undefined {
  if (typeof resource !== 'object' || resource === null || !('Fn::Join' in resource)) return undefined;
  const [, parts] = (resource as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const literals = parts.filter((p): p is string => typeof p === 'string');
  const kind = literals.find((l) => /^:(topic|group|cluster)\/$/.test(l))?.slice(1, -1);
  const last = parts[parts.length - 1];
  return { kind, suffix: typeof last === 'string' ? last : undefined };
}

/** Does the JSON form of a value contain a bare "*" resource? */
export const isWildcard = (resource: unknown): boolean => resource === '*';
