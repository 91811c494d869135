/**
 * CDK entry point (`cdk.json`: `npx tsx cdk/app.ts`).
 *   npx cdk synth                                    # dev, MSK Serverless
 *   npx cdk deploy -c stage=prod -c msk=provisioned  # see docs/deploy.md
 */
import { buildApp } from './build-app.ts';

buildApp().app.synth();
