/**
 * `rawData` on writes (crud.md, MongoDB 8.2+ / wire 27): sent on insert, update, delete,
 * findAndModify and both bulk writes when the server understands it, ignored for older servers
 * (crud/tests/unified/*-rawdata.json).
 */
import { acknowledgeAllOps, startWriteFixture, type WriteFixture } from './helpers';

let fx: WriteFixture;

afterEach(async () => {
  await fx?.close();
});

async function writeEverything(f: WriteFixture): Promise<void> {
  const coll = f.client.db('db').collection('coll');
  await coll.insertOne({ _id: 1 }, { rawData: true });
  await coll.insertMany([{ _id: 2 }, { _id: 3 }], { rawData: true });
  await coll.updateOne({}, { $set: { x: 1 } }, { rawData: true });
  await coll.updateMany({}, { $set: { x: 1 } }, { rawData: true });
  await coll.replaceOne({}, { x: 1 }, { rawData: true });
  await coll.deleteOne({}, { rawData: true });
  await coll.deleteMany({}, { rawData: true });
  await coll.findOneAndUpdate({}, { $set: { x: 1 } }, { rawData: true });
  await coll.findOneAndReplace({}, { x: 1 }, { rawData: true });
  await coll.findOneAndDelete({}, { rawData: true });
  await coll.bulkWrite([{ insertOne: { document: { _id: 4 } } }, { deleteMany: { filter: {} } }], { rawData: true });
  await f.client.bulkWrite([{ name: 'insertOne', namespace: 'db.coll', document: { _id: 5 } }], { rawData: true });
}

const WRITE_COMMANDS = ['insert', 'update', 'delete', 'findAndModify', 'bulkWrite'];

function writes(f: WriteFixture) {
  return f.server.nonHelloCommands().filter((c) => WRITE_COMMANDS.includes(c.commandName));
}

it('8.2+ (wire 27): every write command carries rawData', async () => {
  fx = await startWriteFixture({ maxWireVersion: 27, handlers: { bulkWrite: acknowledgeAllOps } });
  await writeEverything(fx);
  const sent = writes(fx);
  expect(sent.map((c) => c.commandName)).toEqual([
    'insert', 'insert', 'update', 'update', 'update', 'delete', 'delete',
    'findAndModify', 'findAndModify', 'findAndModify', 'insert', 'delete', 'bulkWrite'
  ]);
  for (const c of sent) expect({ name: c.commandName, rawData: c.body.rawData }).toEqual({ name: c.commandName, rawData: true });
});

it('before 8.2 (wire 25): rawData is ignored', async () => {
  fx = await startWriteFixture({ maxWireVersion: 25, handlers: { bulkWrite: acknowledgeAllOps } });
  await writeEverything(fx);
  const sent = writes(fx);
  expect(sent).toHaveLength(13);
  for (const c of sent) expect(c.body).not.toHaveProperty('rawData');
});

it('rawData: false is sent as given (only undefined is omitted)', async () => {
  fx = await startWriteFixture({ maxWireVersion: 27 });
  await fx.client.db('db').collection('coll').insertOne({ _id: 1 }, { rawData: false });
  await fx.client.db('db').collection('coll').insertOne({ _id: 2 });
  const [withFalse, without] = fx.sent('insert');
  expect(withFalse.body.rawData).toBe(false);
  expect(without.body).not.toHaveProperty('rawData');
});
