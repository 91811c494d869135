/**
 * VPC, security groups and VPC endpoints.
 *
 * Network choice: isolated private subnets (no internet gateway, no NAT) plus VPC endpoints.
 * - Kafka event source mappings (ESMs) poll from ENIs in the cluster's subnets with the cluster's
 *   security group. From there they must reach STS (to assume the function's role), Lambda (to invoke
 *   the function; AWS documents that provisioned-mode pollers differ here from on-demand ones) and the
 *   on-failure destination's service (S3). Interface endpoints for STS and Lambda plus an S3 gateway
 *   endpoint cover every case, so switching the pollers between provisioned and on-demand mode cannot
 *   silently break delivery.
 * - The functions themselves need only the brokers (in the VPC) and DynamoDB (gateway endpoint, free);
 *   MSK IAM tokens are signed locally from the role's credentials (no STS call), metrics go out as EMF
 *   through stdout, so nothing else needs a route.
 * - Cost: 2 interface endpoints × 2 AZs (dev; 3 AZs in prod) ≈ $29/month ($44) vs. ≈ $66/month (+ $0.045/GB) for two NAT gateways
 *   (one per AZ, to avoid a cross-AZ single point of failure). And no path to the internet at all is
 *   the smaller attack surface.
 */
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { TunestreamConfig } from '../config.ts';

/** MSK port for SASL/IAM over TLS from inside the VPC. */
export const MSK_IAM_PORT = 9098;

export class Network extends Construct {
  readonly vpc: ec2.Vpc;
  readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  /** The cluster's group; the Kafka ESM pollers use it too. */
  readonly clusterSg: ec2.SecurityGroup;
  /** Functions and the topic provisioner. */
  readonly functionsSg: ec2.SecurityGroup;
  readonly endpointsSg: ec2.SecurityGroup;
  /** STS/Lambda interface and S3 gateway endpoints the Kafka event source mappings rely on. */
  readonly esmEndpoints: Construct[] = [];

  constructor(scope: Construct, id: string, config: TunestreamConfig) {
    super(scope, id);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      // Env-agnostic: AZs via Fn::GetAZs (TunestreamStack.availabilityZones), no context lookup needed.
      maxAzs: config.azCount,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      restrictDefaultSecurityGroup: true,
    });
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });

    this.clusterSg = new ec2.SecurityGroup(this, 'ClusterSg', {
      vpc: this.vpc,
      description: 'MSK brokers and the Lambda Kafka event source pollers',
      allowAllOutbound: false,
    });
    this.functionsSg = new ec2.SecurityGroup(this, 'FunctionsSg', {
      vpc: this.vpc,
      description: 'tunestream Lambda functions (producers, consumers, read API, topic provisioner)',
      allowAllOutbound: false,
    });
    this.endpointsSg = new ec2.SecurityGroup(this, 'EndpointsSg', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints (STS, Lambda)',
      allowAllOutbound: false,
    });

    const iam = ec2.Port.tcp(MSK_IAM_PORT);
    const https = ec2.Port.tcp(443);
    // Brokers admit their own group (broker↔broker, ESM pollers) and the functions on the IAM port only.
    this.clusterSg.addIngressRule(this.clusterSg, iam, 'Kafka IAM from cluster group (brokers, ESM pollers)');
    this.clusterSg.addIngressRule(this.functionsSg, iam, 'Kafka IAM from functions');
    this.clusterSg.addEgressRule(this.clusterSg, iam, 'ESM pollers to brokers');
    this.clusterSg.addEgressRule(this.endpointsSg, https, 'ESM pollers to STS/Lambda endpoints');
    this.functionsSg.addEgressRule(this.clusterSg, iam, 'Functions to brokers');
    this.functionsSg.addEgressRule(this.endpointsSg, https, 'Functions to interface endpoints');
    this.endpointsSg.addIngressRule(this.clusterSg, https, 'HTTPS from ESM pollers');
    this.endpointsSg.addIngressRule(this.functionsSg, https, 'HTTPS from functions');

    // Gateway endpoints (free). S3/DynamoDB prefix lists are region-specific (a lookup would need an
    // account), so HTTPS egress is opened to any IPv4 destination: with no IGW/NAT the only routes
    // that exist are the VPC and these gateway endpoints.
    this.esmEndpoints.push(
      this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [this.subnets] }),
    );
    this.vpc.addGatewayEndpoint('DynamoDb', {
      service: ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.subnets],
    });
    this.functionsSg.addEgressRule(ec2.Peer.anyIpv4(), https, 'HTTPS to S3/DynamoDB gateway endpoints');
    this.clusterSg.addEgressRule(ec2.Peer.anyIpv4(), https, 'ESM on-failure destination (S3 gateway endpoint)');

    for (const [name, service] of [
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
      ['Lambda', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
    ] as const) {
      this.esmEndpoints.push(
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.subnets,
          securityGroups: [this.endpointsSg],
          open: false,
          privateDnsEnabled: true,
        }),
      );
    }
  }

  get subnetIds(): string[] {
    return this.vpc.selectSubnets(this.subnets).subnetIds;
  }
}
