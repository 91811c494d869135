/**
 * DynamoDB tables from the topology: keys, GSIs and TTL as declared; point-in-time recovery, AWS
 * managed KMS encryption (aws/dynamodb), deletion protection in prod. Capacity: on-demand, or
 * with `-c capacity=provisioned` provisioned read and write capacity with target-tracking auto
 * scaling for the tables `provisionedCapacity` names (and their indexes), the others on demand.
 *
 * Encryption choice: the AWS managed key gives KMS encryption with CloudTrail-audited key use and no key
 * policy to maintain. A CMK would only pay off for cross-account access or key-policy separation of
 * duties, neither of which this single-account backend has; it would add $1/month per key, KMS request
 * charges on every uncached read/write and a key policy that can lock the functions out.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import {
  type AttributeType,
  type CapacityBounds,
  type KeySpec,
  provisionedCapacity,
  type TableKey,
  type TableSpec,
  tables,
} from '../../shared/topology.ts';
import type { TunestreamConfig } from '../config.ts';

const ATTRIBUTE_TYPES: Record<AttributeType, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};
const attribute = (k: KeySpec): dynamodb.Attribute => ({ name: k.name, type: ATTRIBUTE_TYPES[k.type] });

type Bounds = { read: CapacityBounds; write: CapacityBounds };

/** A table's provisioned bounds, or undefined when it is on demand in this configuration. */
export function capacityOf(config: TunestreamConfig, key: TableKey): Bounds | undefined {
  if (config.capacity !== 'provisioned') return undefined;
  return (provisionedCapacity.tables as Partial<Record<TableKey, Bounds>>)[key];
}

export class Tables extends Construct {
  readonly byKey: Record<TableKey, dynamodb.Table>;

  constructor(scope: Construct, id: string, config: TunestreamConfig) {
    super(scope, id);
    const byKey = {} as Record<TableKey, dynamodb.Table>;
    for (const [key, spec] of Object.entries(tables) as [TableKey, TableSpec][]) {
      const bounds = capacityOf(config, key);
      const table = new dynamodb.Table(this, key, {
        partitionKey: attribute(spec.partitionKey),
        sortKey: spec.sortKey ? attribute(spec.sortKey) : undefined,
        ...(bounds
          ? {
              billingMode: dynamodb.BillingMode.PROVISIONED,
              readCapacity: bounds.read.min,
              writeCapacity: bounds.write.min,
            }
          : { billingMode: dynamodb.BillingMode.PAY_PER_REQUEST }),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        deletionProtection: config.deletionProtection,
        removalPolicy: config.removalPolicy,
        timeToLiveAttribute: spec.ttlAttribute,
      });
      for (const gsi of spec.globalSecondaryIndexes ?? []) {
        const projection =
          gsi.projection === 'ALL'
            ? { projectionType: dynamodb.ProjectionType.ALL }
            : gsi.projection === 'KEYS_ONLY'
              ? { projectionType: dynamodb.ProjectionType.KEYS_ONLY }
              : { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...gsi.projection] };
        table.addGlobalSecondaryIndex({
          indexName: gsi.name,
          partitionKey: attribute(gsi.partitionKey),
          sortKey: gsi.sortKey ? attribute(gsi.sortKey) : undefined,
          ...projection,
          ...(bounds ? { readCapacity: bounds.read.min, writeCapacity: bounds.write.min } : {}),
        });
      }
      if (bounds) autoScale(table, spec, bounds);
      byKey[key] = table;
    }
    this.byKey = byKey;
  }

  /** Physical names (CloudFormation-generated), keyed like the topology, for `resourceEnv`. */
  get names(): Record<TableKey, string> {
    const out = {} as Record<TableKey, string>;
    for (const key of Object.keys(this.byKey) as TableKey[]) out[key] = this.byKey[key].tableName;
    return out;
  }
}

/** Target tracking on reads and writes, the table's and each index's. */
function autoScale(table: dynamodb.Table, spec: TableSpec, bounds: Bounds): void {
  const target = { targetUtilizationPercent: provisionedCapacity.targetUtilizationPercent };
  const range = (b: CapacityBounds) => ({ minCapacity: b.min, maxCapacity: b.max });
  table.autoScaleReadCapacity(range(bounds.read)).scaleOnUtilization(target);
  table.autoScaleWriteCapacity(range(bounds.write)).scaleOnUtilization(target);
  for (const gsi of spec.globalSecondaryIndexes ?? []) {
    table.autoScaleGlobalSecondaryIndexReadCapacity(gsi.name, range(bounds.read)).scaleOnUtilization(target);
    table.autoScaleGlobalSecondaryIndexWriteCapacity(gsi.name, range(bounds.write)).scaleOnUtilization(target);
  }
}
