/**
 * The monthly bill's model (bench/cost-model.ts): capacity modes priced per unit, Personalize's
 * tiers, the batch layer's window cap, and the deployment figures it assumes equal to the topology's.
 */
import { describe, expect, it } from 'vitest';
import {
  BILL_PRICES,
  batchAt,
  billRows,
  idleMonthly,
  PROD_PROVISIONED_MSK,
  perEvent,
  personalizeTpsUsd,
  rewriteFraction,
} from '../../../bench/cost-model.ts';
import { provisionedCapacity, type TableKey, type TableSpec, tables, topics } from '../../../shared/topology.ts';

const inputs = {
  lambdas: [{ name: 'f', memoryMb: 1024, msPerEvent: 1, invocationsPerEvent: 0.001 }],
  writeUnitsPerEvent: 1,
  readUnitsPerEvent: 1,
};

describe('cost model', () => {
  it('a provisioned unit at 70 % utilization costs what 3,600 × 0.7 requests do', () => {
    const od = perEvent(inputs, 'on-demand');
    const pr = perEvent(inputs, 'provisioned');
    expect(od.dynamoUsdPerMillion).toBeCloseTo(0.625 + 0.125);
    expect(pr.dynamoUsdPerMillion).toBeCloseTo(((0.00065 + 0.00013) * 1e6) / 2520);
    expect(pr.lambdaUsdPerMillion).toBe(od.lambdaUsdPerMillion);
    expect(pr.usdPerMillionEvents).toBeLessThan(od.usdPerMillionEvents / 2);
    // 1-year reserved capacity: its upfront spread over the year, ~54 % below provisioned.
    const rs = perEvent(inputs, 'reserved');
    expect(rs.dynamoUsdPerMillion).toBeCloseTo(
      (((150 / 8760 + 0.0128) / 100 + (30 / 8760 + 0.0025) / 100) * 1e6) / 2520,
    );
    expect(rs.dynamoUsdPerMillion).toBeLessThan(pr.dynamoUsdPerMillion * 0.5);
  });

  it("Personalize's real-time TPS-hours through the tiers: 1 TPS for a month is $146", () => {
    expect(personalizeTpsUsd(730)).toBeCloseTo(146);
    expect(personalizeTpsUsd(30_000)).toBeCloseTo(20_000 * 0.2 + 10_000 * 0.1);
    expect(personalizeTpsUsd(300_000)).toBeCloseTo(20_000 * 0.2 + 180_000 * 0.1 + 100_000 * 0.05);
  });

  it('a build rewrites the measured share of its lists: 8.8 % after 0.07 % new events, 72 % after 1 %, at most all', () => {
    expect(rewriteFraction(0.0007)).toBeCloseTo(0.088);
    expect(rewriteFraction(0.01)).toBeCloseTo(0.72);
    expect(rewriteFraction(0.5)).toBe(1);
    // Hourly at 1 M a day (a 61-day window) rewrites less than daily does.
    expect(batchAt(1e6, 730).listsRewrittenPerBuild).toBeLessThan(batchAt(1e6, 30.4).listsRewrittenPerBuild);
  });

  it('the batch layer reads at most the 10 GB window, whatever the traffic', () => {
    expect(batchAt(1e5, 730).windowBytes).toBeCloseTo(90 * 1e5 * 163);
    expect(batchAt(1e8, 730).windowBytes).toBeCloseTo(10e9);
    expect(batchAt(1e7, 730).windowBytes).toBe(batchAt(1e8, 730).windowBytes);
  });

  it("the deployment's figures are the topology's: partitions, provisioned minimums", () => {
    expect(PROD_PROVISIONED_MSK.partitions).toBe(Object.values(topics).reduce((a, t) => a + t.partitions, 0));
    let wcu = 0;
    let rcu = 0;
    for (const [key, b] of Object.entries(provisionedCapacity.tables)) {
      const copies = 1 + ((tables[key as TableKey] as TableSpec).globalSecondaryIndexes?.length ?? 0);
      wcu += copies * b.write.min;
      rcu += copies * b.read.min;
    }
    expect({ wcu, rcu }).toEqual({ wcu: PROD_PROVISIONED_MSK.minWcu, rcu: PROD_PROVISIONED_MSK.minRcu });
    const idle = idleMonthly(PROD_PROVISIONED_MSK, 'provisioned');
    expect(idle.at(-1)?.usd).toBeCloseTo((36 * 0.00065 + 33 * 0.00013) * 730);
    expect(idleMonthly(PROD_PROVISIONED_MSK, 'on-demand')).toHaveLength(idle.length - 1);
  });

  it('a bill is the sum of its parts, and grows with the traffic', () => {
    const rows = billRows(inputs);
    for (const r of rows)
      for (const b of [r.onDemand, r.provisioned])
        expect(b.total).toBeCloseTo(
          b.idle +
            b.perEvent +
            b.recommendations +
            b.other.reduce((a, l) => a + l.usd, 0) +
            b.batch.athena +
            b.batch.dynamo,
        );
    expect(rows[2]!.onDemand.total).toBeGreaterThan(rows[1]!.onDemand.total);
    expect(rows[1]!.provisioned.perEvent).toBeLessThan(rows[1]!.onDemand.perEvent);
    expect(BILL_PRICES.dynamoUsdPerMillionWriteUnits).toBe(0.625);
  });
});
