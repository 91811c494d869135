/**
 * Builds the CDK app: used by cdk/app.ts (the CLI entry point) and by the tests, so both synthesize
 * exactly the same thing. cdk-nag AwsSolutions checks run as a v3 policy-validation plugin: any
 * unacknowledged finding fails synthesis.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { configFromContext } from './config.ts';
import { TunestreamStack } from './tunestream-stack.ts';

export interface TunestreamApp {
  readonly app: App;
  readonly stack: TunestreamStack;
}

export function buildApp(props?: AppProps): TunestreamApp {
  const app = new App(props);
  const config = configFromContext(app.node);
  const stack = new TunestreamStack(app, `tunestream-${config.stage}`, {
    config,
    description: `tunestream real-time music recommendations (${config.stage}, MSK ${config.msk}, DynamoDB ${config.capacity})`,
    // Env-agnostic on purpose: no lookups, synth works without credentials. Deploy-time account and
    // region come from the CLI profile.
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
