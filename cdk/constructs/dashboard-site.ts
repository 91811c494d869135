/**
 * The live dashboard in the cloud: the same Vite build (dashboard/dist) in a private S3 bucket,
 * served by CloudFront through origin access control, HTTPS only, with a security-headers
 * policy; the HTTP API is the second origin for the paths the page calls (derived from the
 * topology's GET routes and dashboard routes), uncached, with the viewer's Authorization header
 * forwarded so API Gateway's authorizer (JWT for reads, see docs/deploy.md) decides, as for any
 * client. The page and its API share one origin: no CORS.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as cdk from 'aws-cdk-lib';
import { Duration, Fn, Validations } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { dashboardRoutes, routes } from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';
import type { Api } from './api.ts';
import { REPO_ROOT } from './function-defaults.ts';

export interface DashboardSiteProps {
  readonly config: TunestreamConfig;
  readonly api: Api;
}

/**
 * CloudFront path patterns for the API's GET routes: a path up to its first `{param}` plus `*`
 * (`/users/{userId}/profile` → `/users/*`), literal paths as they are. Writes are not routed:
 * POST /events through the dashboard's origin would reach S3 and be refused; nor are the
 * ListenBrainz routes (user tokens, for scrobblers, not the page).
 */
export function apiPathPatterns(): string[] {
  const patterns = new Set<string>();
  for (const r of [...routes, ...dashboardRoutes]) {
    if (r.method !== 'GET' || 'auth' in r) continue;
    const i = r.path.indexOf('{');
    patterns.add(i === -1 ? r.path : `${r.path.slice(0, i)}*`);
  }
  return [...patterns].sort();
}

/** Page content security: same-origin scripts, data, and API calls; Chart.js needs inline styles. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** A named prebuilt dashboard (-c dashboardDist) must be one: synthesis stops here, before any bundling. */
export function assertDashboardBuild(dist: string | undefined): void {
  if (dist !== undefined && !existsSync(path.join(dist, 'index.html')))
    throw new Error(
      `-c dashboardDist=${dist} holds no dashboard build (index.html). Run \`npm run dashboard:build\` and point it at dashboard/dist, or leave -c dashboardDist out: synthesis then builds the dashboard itself.`,
    );
}

/** The dashboard's sources (what the bundled asset is hashed from). */
export const DASHBOARD_SOURCE = path.join(REPO_ROOT, 'dashboard');

/**
 * Local bundling of the dashboard: vite builds dashboard/ into the asset's output directory
 * during synthesis, in this process's Node (no Docker, no prior `npm run dashboard:build`). CDK
 * runs it once per source hash (a staged asset is reused) and not at all for stacks whose
 * bundling is skipped (`cdk synth --exclusively`, the cfn-lint check).
 */
export const dashboardBundler: cdk.ILocalBundling = {
  tryBundle(outputDir: string): boolean {
    const vite = path.join(REPO_ROOT, 'node_modules/vite/bin/vite.js');
    const r = spawnSync(
      process.execPath,
      [
        vite,
        'build',
        '--config',
        path.join(DASHBOARD_SOURCE, 'vite.config.ts'),
        '--outDir',
        outputDir,
        '--emptyOutDir',
        '--logLevel',
        'warn',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0)
      throw new Error(`building the dashboard (vite) failed: ${r.error?.message ?? `exit ${r.status ?? r.signal}`}`);
    return true;
  },
};

function dashboardAsset(dist: string | undefined): s3deploy.ISource {
  if (dist !== undefined) return s3deploy.Source.asset(dist);
  return s3deploy.Source.asset(DASHBOARD_SOURCE, {
    exclude: ['dist', 'node_modules'],
    bundling: {
      local: dashboardBundler,
      // Never used: the local bundler always succeeds or throws (the project runs without Docker).
      image: cdk.DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20-slim'),
    },
  });
}

export class DashboardSite extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly deployment: s3deploy.BucketDeployment;
  readonly responseHeaders: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: DashboardSiteProps) {
    super(scope, id);
    const { config, api } = props;
    const dist = config.dashboardDist;
    assertDashboardBuild(dist);

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: config.removalPolicy,
      autoDeleteObjects: config.stage === 'dev',
    });

    this.responseHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'tunestream dashboard: HSTS, CSP, no framing, no sniffing, no referrer',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        contentSecurityPolicy: { contentSecurityPolicy: CONTENT_SECURITY_POLICY, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
      },
    });

    // https://<api-id>.execute-api.<region>.amazonaws.com/ → the host.
    const apiDomain = Fn.select(2, Fn.split('/', api.url));
    const apiBehavior: cloudfront.BehaviorOptions = {
      origin: new origins.HttpOrigin(apiDomain, {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      // Per-user answers: never cached. With caching off, the all-viewer policy may forward
      // Authorization; not Host, which API Gateway's default endpoint must see as its own.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: this.responseHeaders,
    };
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `tunestream ${config.stage} dashboard`,
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      // North America and Europe edges only: the cheapest class; the page is small.
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.responseHeaders,
      },
      additionalBehaviors: Object.fromEntries(apiPathPatterns().map((p) => [p, apiBehavior])),
    });

    // Uploads the build and invalidates the cache on every deploy; no Docker (a zip asset and
    // aws-cdk-lib's AWS CLI layer).
    this.deployment = new s3deploy.BucketDeployment(this, 'Upload', {
      sources: [dashboardAsset(dist)],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 256,
      logGroup: new logs.LogGroup(this, 'UploadLogs', {
        retention: config.logRetention,
        removalPolicy: config.removalPolicy,
      }),
    });

    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Dashboard bucket holds the public page build only, readable solely by this CloudFront distribution (OAC); requests are visible at the edge instead.',
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'The page is for operators anywhere; the API behind it is authorized per request.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'No WAF (≈$6/month + per request): static files and an API that authorizes every request and is throttled at its stage.',
      },
      {
        id: 'AwsSolutions-CFR3',
        reason:
          'No CloudFront access logs: they need an ACL-enabled log bucket; API requests are logged by API Gateway access logs.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'The default *.cloudfront.net certificate cannot pin a minimum viewer TLS version; with a custom domain set minimumProtocolVersion TLS_V1_2_2021.',
      },
    );
  }

  get url(): string {
    return `https://${this.distribution.distributionDomainName}/`;
  }
}
