/**
 * `npm run users -- create|revoke|list <userId>`: listeners' API tokens (ListenBrainz-style user
 * tokens for the /1/ routes). See --help.
 */
import { parseArgs } from 'node:util';
import { LOCAL_STACK_FILE, readLocalStack } from '../local/stack-file.ts';
import { createDocumentClient } from '../shared/adapters/dynamodb/client.ts';
import { countTokens, createToken, revokeTokens, type UsersStore } from '../shared/adapters/dynamodb/users.ts';
import { resolveTopology, tableEnvVar } from '../shared/topology.ts';

const HELP = `Usage: npm run users -- <create|revoke|list> <userId> [options]

  create <userId>   print a new token for the listener (shown once; stored as its SHA-256)
  revoke <userId>   revoke every token of the listener (API Gateway may accept a revoked token
                    for up to USER_TOKEN_CACHE_SECONDS, the authorizer's cache)
  list <userId>     how many tokens the listener holds

Where the users table is:
  (default)            the running local stack (npm start writes ${LOCAL_STACK_FILE})
  --endpoint <url>     a DynamoDB Local endpoint (with --prefix <p> for prefixed tables)
  --cloud --table <t>  the deployed table (CDK output UsersTableName; $${tableEnvVar('users')} also works),
                       with the default AWS credential chain and AWS_REGION

The token goes in the client's ListenBrainz settings, e.g. Navidrome: ListenBrainz base URL
http://<host>/1/ and the token as the user token.`;

function storeFrom(values: { endpoint?: string; prefix?: string; cloud?: boolean; table?: string }): UsersStore {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  if (values.cloud) {
    const table = values.table ?? process.env[tableEnvVar('users')];
    if (!table) throw new Error(`--cloud needs --table <name> (the stack's UsersTableName output)`);
    return { client: createDocumentClient({ region }), table };
  }
  let endpoint = values.endpoint ?? process.env.DYNAMODB_ENDPOINT;
  let prefix = values.prefix ?? '';
  if (!endpoint) {
    const stack = readLocalStack();
    if (!stack?.dynamodbEndpoint)
      throw new Error(`no local stack found (${LOCAL_STACK_FILE}): run npm start, or pass --endpoint`);
    endpoint = stack.dynamodbEndpoint;
    prefix = values.prefix ?? stack.prefix ?? '';
  }
  return {
    client: createDocumentClient({ endpoint, region }),
    table: values.table ?? resolveTopology(prefix).tableNames.users,
  };
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      endpoint: { type: 'string' },
      prefix: { type: 'string' },
      cloud: { type: 'boolean', default: false },
      table: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, userId] = positionals;
  if (values.help || !command) return void console.log(HELP);
  if (!userId || userId.length > 128) throw new Error('a userId (1–128 characters) is required (see --help)');
  const store = storeFrom(values);
  switch (command) {
    case 'create': {
      const token = await createToken(store, userId);
      console.error(
        `created a token for ${userId} (table ${store.table}); it is not stored and will not be shown again:`,
      );
      console.log(token);
      return;
    }
    case 'revoke': {
      const n = await revokeTokens(store, userId);
      console.log(`revoked ${n} token${n === 1 ? '' : 's'} of ${userId}`);
      return;
    }
    case 'list': {
      const n = await countTokens(store, userId);
      console.log(`${userId} holds ${n} token${n === 1 ? '' : 's'}`);
      return;
    }
    default:
      throw new Error(`unknown command ${command} (see --help)`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  main().catch((err) => {
    console.error(`users: ${(err as Error).message}`);
    process.exit(1);
  });
