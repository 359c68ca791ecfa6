/**
 * Motor's tutorial flow, in TypeScript with mongowire: insert, find with a filter, count,
 * update, delete, a command, an aggregation. `runTutorial(uri)` is what `npm run demo` runs
 * (scripts/demo.ts) and what the README shows.
 */
import { MongoClient, type ObjectId } from '../src';

interface Item {
  _id?: ObjectId;
  i: number;
  key?: string;
  tags?: string[];
}

export async function runTutorial(uri: string, log: (line: string) => void = console.log): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const db = client.db('mongowire_tutorial');
    const collection = db.collection<Item>('test_collection');
    await collection.drop().catch(() => undefined);

    // Inserting a document, then many.
    const one = await collection.insertOne({ i: 0, key: 'value' });
    log(`insertOne: _id ${one.insertedId.toHexString()}`);
    const many = await collection.insertMany(Array.from({ length: 2000 }, (_, n) => ({ i: n + 1, tags: n % 2 ? ['odd'] : ['even'] })));
    log(`insertMany: ${many.insertedCount} documents`);

    // Getting a single document, then querying for more than one.
    const first = await collection.findOne({ i: { $lt: 1 } });
    log(`findOne({i: {$lt: 1}}): i=${first?.i} key=${first?.key}`);
    const few = await collection.find({ i: { $lt: 5 } }).sort({ i: -1 }).toList(10);
    log(`find({i: {$lt: 5}}).sort({i: -1}): ${few.map((d) => d.i).join(', ')}`);
    let sum = 0;
    for await (const doc of collection.find({ i: { $gte: 1990 } }, { batchSize: 4 })) sum += doc.i;
    log(`for await over i >= 1990: sum ${sum}`);

    // Counting documents.
    log(`countDocuments({}): ${await collection.countDocuments({})}`);
    log(`countDocuments({i: {$gt: 1000}}): ${await collection.countDocuments({ i: { $gt: 1000 } })}`);

    // Updating documents.
    const updated = await collection.updateOne({ i: 51 }, { $set: { key: 'value' } });
    log(`updateOne: matched ${updated.matchedCount}, modified ${updated.modifiedCount}`);
    const replaced = await collection.replaceOne({ i: 52 }, { i: 52, key: 'replaced' });
    log(`replaceOne: modified ${replaced.modifiedCount}`);
    const bulkUpdated = await collection.updateMany({ i: { $gt: 100 } }, { $inc: { i: 1 } });
    log(`updateMany: modified ${bulkUpdated.modifiedCount}`);

    // Deleting documents.
    const deleted = await collection.deleteMany({ i: { $gte: 1000 } });
    log(`deleteMany: deleted ${deleted.deletedCount}`);
    log(`remaining: ${await collection.countDocuments({})}`);

    // Commands.
    const info = await db.command({ buildInfo: 1 });
    log(`buildInfo: MongoDB ${String(info.version)}`);

    // Aggregation.
    const groups = await collection
      .aggregate<{ _id: string; count: number }>([{ $unwind: '$tags' }, { $group: { _id: '$tags', count: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    log(`aggregate by tag: ${groups.map((g) => `${g._id}=${g.count}`).join(', ')}`);

    await collection.drop();
  } finally {
    await client.close();
  }
}
