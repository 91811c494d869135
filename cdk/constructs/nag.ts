/**
 * cdk-nag (AwsSolutions) acknowledgements for constructs aws-cdk-lib creates at stack level.
 * Findings on our own resources are acknowledged next to them (functions.ts, kafka.ts). Every
 * acknowledgement carries its reason; cdk-nag v3 needs one per finding (no prefix matching).
 */

import type { CfnResource, Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';

/** The AwsCustomResource singleton function (one per stack, created by aws-cdk-lib). */
const AWS_CUSTOM_RESOURCE_SINGLETON = 'AWS679f53fac002430cb0da5b7982bd2287';

/** BucketDeployment's singleton function (one per memory size, created by aws-cdk-lib). */
const BUCKET_DEPLOYMENT_PREFIX = 'Custom::CDKBucketDeployment';

export function acknowledgeFindings(stack: Stack): void {
  for (const deployer of stack.node.children.filter((c) => c.node.id.startsWith(BUCKET_DEPLOYMENT_PREFIX))) {
    const site = stack.node.tryFindChild('DashboardSite')?.node.tryFindChild('Bucket');
    const siteBucket = site ? stack.getLogicalId(site.node.defaultChild as CfnResource) : 'DashboardSiteBucket';
    const copy =
      'BucketDeployment copies the dashboard build from the CDK assets bucket into the dashboard bucket (aws-cdk-lib grantRead/grantReadWrite on those two buckets only)';
    Validations.of(deployer).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'BucketDeployment function: the AWS managed basic execution role only grants writing its own logs.',
      },
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${copy}; prune deletes files the new build no longer has.`,
      })),
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
        reason: `${copy}: reads the build's zip from the bootstrap assets bucket.`,
      },
      { id: `AwsSolutions-IAM5[Resource::<${siteBucket}.Arn>/*]`, reason: `${copy}: writes the page files.` },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'cloudfront:CreateInvalidation/GetInvalidation after the upload: aws-cdk-lib grants them on * (the distribution id is not known to the policy).',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'BucketDeployment runs the AWS CLI on the Python runtime aws-cdk-lib pins for its layer; not ours to choose.',
      },
    );
  }

  const singleton = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_SINGLETON);
  if (singleton) {
    Validations.of(singleton).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'AwsCustomResource singleton (kafka:GetBootstrapBrokers on the cluster ARN only): the AWS managed basic execution role only grants writing its own logs.',
    });
  }
}
