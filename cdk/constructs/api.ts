/**
 * HTTP API (API Gateway v2) with the routes from the topology. Every route is IAM-authorized (SigV4)
 * by default; with `-c jwtIssuer=… -c jwtAudience=…` the `access: 'read'` routes use a JWT authorizer
 * instead, and writes stay IAM-only. Stage throttling and JSON access logs on the $default stage.
 */

import { Duration } from 'aws-cdk-lib';
import * as apigwv1 from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import {
  HttpIamAuthorizer,
  HttpJwtAuthorizer,
  HttpLambdaAuthorizer,
  HttpLambdaResponseType,
} from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { dashboardRoutes, type FunctionName, type RouteSpec, resolveSettings, routes } from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';

export interface ApiProps {
  readonly config: TunestreamConfig;
  readonly functions: Record<FunctionName, lambda.IFunction>;
}

/** HTTP API access-log fields ($context variables that HTTP APIs support). */
export const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  caller: '$context.identity.caller',
  userArn: '$context.identity.userArn',
  jwtSub: '$context.authorizer.claims.sub',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  path: '$context.path',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  errorMessage: '$context.error.message',
} as const;

export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config } = props;

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      apiName: `tunestream-${config.stage}`,
      description: 'tunestream: listen-event ingest and recommendation reads',
      defaultAuthorizer: new HttpIamAuthorizer(),
      createDefaultStage: false,
    });

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    this.stage = this.httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: config.apiThrottle,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: apigwv1.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
    });

    const jwt = config.jwt
      ? new HttpJwtAuthorizer('JwtAuthorizer', config.jwt.issuer, { jwtAudience: [...config.jwt.audience] })
      : undefined;

    // The listeners' own tokens on the ListenBrainz routes: a Lambda request authorizer whose
    // answers API Gateway caches per Authorization header (see functions/token-authorizer).
    const userToken = new HttpLambdaAuthorizer('UserTokenAuthorizer', props.functions['token-authorizer'], {
      authorizerName: 'user-token',
      responseTypes: [HttpLambdaResponseType.SIMPLE],
      identitySource: ['$request.header.Authorization'],
      resultsCacheTtl: Duration.seconds(resolveSettings().USER_TOKEN_CACHE_SECONDS),
    });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    const integrationFor = (name: FunctionName) => {
      let integration = integrations.get(name);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${name}-integration`, props.functions[name]);
        integrations.set(name, integration);
      }
      return integration;
    };
    // The dashboard's endpoints are routes like the others, authorized like the read routes.
    for (const route of [...routes, ...dashboardRoutes] as readonly RouteSpec[]) {
      this.httpApi.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration: integrationFor(route.function),
        // undefined = the API's default (IAM); JWT only for reads, and only when configured.
        authorizer: route.auth === 'user-token' ? userToken : route.access === 'read' && jwt ? jwt : undefined,
      });
    }
  }

  get url(): string {
    return this.stage.url;
  }
}
