/**
 * cdk-nag (AwsSolutions) acknowledgements for constructs aws-cdk-lib creates at stack level.
 * Findings on our own resources are acknowledged next to them (functions.ts, kafka.ts). Every
 * acknowledgement carries its reason; cdk-nag v3 needs one per finding (no prefix matching).
 */

import type { Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';

/** The AwsCustomResource singleton function (one per stack, created by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

export function acknowledgeFindings(stack: Stack): void {
  const singleton = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
  if (singleton) {
    Validations.of(singleton).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AwsCustomResource singleton (kafka:GetBootstrapBrokers on the cluster ARN only): the AWS managed basic execution role only grants writing its own logs.',
    });
  }
}
