/**
 * Log groups with retention for the Lambda functions aws-cdk-lib creates as raw CloudFormation
 * (its custom resource providers: S3 auto-delete-objects, the VPC's default security group
 * restriction). They take no log group setting, so their logs would go to `/aws/lambda/<name>`,
 * created on first invocation and kept forever. Every other function is given its log group where
 * it is made (functions.ts, kafka.ts, dashboard-site.ts).
 */
import { CfnResource, type Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TunestreamConfig } from '../config.ts';

export function giveProviderFunctionsLogGroups(stack: Stack, config: TunestreamConfig): void {
  for (const c of stack.node.findAll()) {
    if (!(c instanceof CfnResource) || c instanceof lambda.CfnFunction) continue;
    if (c.cfnResourceType !== 'AWS::Lambda::Function') continue;
    const scope = c.node.scope;
    if (!(scope instanceof Construct)) continue;
    const logGroup = new logs.LogGroup(scope, 'Logs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    // The provider's role has AWSLambdaBasicExecutionRole (logs on *): it may write here.
    c.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
  }
}
