/**
 * sessions prose test 14 ("Implicit sessions only allocate their server session after a
 * successful connection checkout"), found by the differential run of SDAM pool-cleared-error.json:
 * with maxPoolSize=1, concurrent operations share one server session because the pool hands a
 * checked-in connection to the next waiter only after the previous operation released its session.
 */
import type { Document } from 'bson';
import { MongoClient } from '../../src/index';
import { MockDeployment } from '../../spec-tests/unified/mock_deployment';

describe('implicit sessions and connection checkout (sessions prose test 14)', () => {
  let deployment: MockDeployment;
  let client: MongoClient;

  beforeEach(async () => {
    deployment = await MockDeployment.start('single');
    client = new MongoClient(`${deployment.clientUri()}?maxPoolSize=1&retryWrites=true`, { monitorCommands: true, serverSelectionTimeoutMS: 3_000 });
    await client.connect();
  });
  afterEach(async () => {
    await client.close();
    await deployment.close();
  });

  test('eight concurrent operations use fewer than eight sessions, and exactly one at least once in five runs', async () => {
    const lsids: string[] = [];
    client.on('commandStarted', (event: { command: Document }) => {
      if (event.command.lsid) lsids.push(JSON.stringify(event.command.lsid));
    });
    const coll = client.db('d').collection('c');
    const counts: number[] = [];
    for (let run = 0; run < 5; run++) {
      lsids.length = 0;
      await Promise.all([
        coll.insertOne({}),
        coll.deleteOne({}),
        coll.updateOne({}, { $set: { a: 1 } }),
        coll.bulkWrite([{ updateOne: { filter: {}, update: { $set: { a: 1 } } } }]),
        coll.findOneAndDelete({}),
        coll.findOneAndUpdate({}, { $set: { a: 1 } }),
        coll.findOneAndReplace({}, { a: 1 }),
        coll.find().toArray()
      ]);
      expect(lsids).toHaveLength(8);
      counts.push(new Set(lsids).size);
    }
    for (const count of counts) expect(count).toBeLessThan(8);
    expect(counts).toContain(1);
  });
});
