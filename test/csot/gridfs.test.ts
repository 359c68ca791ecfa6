/**
 * CSOT for GridFS (client-side-operations-timeout.md "GridFS API"): timeoutMS inherited from the
 * database or given per call, ONE deadline for each bucket method and for each upload/download
 * stream (from its creation), maxTimeMS on every command, and a timed-out upload that fails cleanly.
 */
import { Binary, type Document } from 'bson';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MongoAPIError, MongoOperationTimeoutError } from '../../src/errors';
import { GridFSBucket } from '../../src/gridfs';
import { cursorReply, rejectionOf, script, sleep, startDeployment, type MockDeployment } from './mock_helpers';

let d: MockDeployment;
const FILE_ID = 5;
const FILE = { _id: FILE_ID, length: 10, chunkSize: 4, uploadDate: new Date(0), filename: 'length-10' };
const chunk = (n: number, size: number): Document => ({ _id: 100 + n, files_id: FILE_ID, n, data: new Binary(Buffer.alloc(size, n)) });

beforeEach(async () => {
  d = await startDeployment('&timeoutMS=150');
  // Establish the pooled connection outside the 150 ms budgets under test: on a loaded machine a
  // fresh TCP connection + handshake alone can take longer than that.
  await d.client.db('admin').command({ ping: 1 }, { timeoutMS: 10_000 });
  d.server.clearRecords();
  script(d, 'find', (r) => {
    if (r.body.find === 'fs.files') return cursorReply(r, r.body.filter?._id ? [FILE] : [], 0);
    return cursorReply(r, [chunk(0, 4), chunk(1, 4), chunk(2, 2)], 0);
  });
  for (const name of ['insert', 'delete', 'update', 'drop', 'createIndexes']) script(d, name, () => ({ n: 1, nModified: 1, ok: 1 }));
  script(d, 'listIndexes', (r) => cursorReply(r, [], 0));
});

afterEach(async () => {
  await d.close();
});

const bucket = (options = {}) => new GridFSBucket(d.client.db('test'), options);
const upload = (b: GridFSBucket, options = {}) => pipeline(Readable.from([Buffer.from('1122334455', 'hex')]), b.openUploadStream('filename', options));
const download = async (b: GridFSBucket, options = {}) => {
  const parts: Buffer[] = [];
  for await (const part of b.openDownloadStream(FILE_ID, options)) parts.push(part as Buffer);
  return Buffer.concat(parts);
};

/** Every command of the deployment carried a maxTimeMS within the timeout. */
function expectMaxTimeMS(names: string[], atMost: number): void {
  for (const name of names) {
    for (const command of d.sent(name)) {
      expect(command.maxTimeMS).toBeGreaterThan(0);
      expect(command.maxTimeMS).toBeLessThanOrEqual(atMost);
    }
  }
}

describe('uploads', () => {
  test('every command of an upload carries maxTimeMS from one shrinking deadline', async () => {
    d.delays.listIndexes = [30];
    // A roomy per-upload budget: this test is about one deadline shrinking, not about its size.
    await upload(bucket(), { timeoutMS: 1000 });
    const names = ['find', 'listIndexes', 'createIndexes', 'insert'];
    expectMaxTimeMS(names, 1000);
    const [chunkInsert, fileInsert] = d.sent('insert').map((c) => c.maxTimeMS as number);
    expect(fileInsert).toBeLessThanOrEqual(chunkInsert);
    expect(d.sent('find')[0].maxTimeMS as number).toBeGreaterThan(fileInsert + 25);
  });

  test('the timeout applies to the upload as a whole, not to its parts', async () => {
    d.delays.find = [90];
    d.delays.listIndexes = [90];
    expect(await rejectionOf(upload(bucket()))).toBeInstanceOf(MongoOperationTimeoutError);
  });

  test('timeoutMS can be overridden per upload (and per bucket)', async () => {
    d.delays.find = [90, 90];
    d.delays.listIndexes = [90, 90];
    await upload(bucket(), { timeoutMS: 2000 });
    expect(d.sent('find')[0].maxTimeMS).toBeGreaterThan(1500);
    await upload(bucket({ timeoutMS: 3000 }));
    expect(d.sent('find')[1].maxTimeMS).toBeGreaterThan(2500);
  });

  test('the deadline starts when the stream is created', async () => {
    const stream = bucket().openUploadStream('filename');
    await sleep(200);
    const error = await rejectionOf(pipeline(Readable.from([Buffer.from([0x12])]), stream));
    expect(error).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('insert')).toHaveLength(0);
  });

  test('a timed-out chunk insert fails the stream; abort() then shares the expired deadline, sends nothing, destroys the stream', async () => {
    const stream = bucket({ chunkSizeBytes: 2 }).openUploadStream('filename');
    stream.on('error', () => undefined);
    d.delays.insert = [300];
    const written = new Promise<unknown>((resolve) => stream.write(Buffer.from([1, 2, 3]), resolve));
    expect(await written).toBeInstanceOf(MongoOperationTimeoutError);
    expect(await rejectionOf(stream.abort())).toBeInstanceOf(MongoOperationTimeoutError);
    expect(stream.destroyed).toBe(true);
    expect(d.sent('delete')).toHaveLength(0);
    expect(stream.errored).toBeInstanceOf(MongoOperationTimeoutError);
  });

  test('abort() can be timed out (prose test "Aborting an upload stream can be timed out")', async () => {
    const stream = bucket({ chunkSizeBytes: 2 }).openUploadStream('filename');
    await new Promise((resolve, reject) => stream.write(Buffer.from([1, 2, 3, 4]), (error) => (error ? reject(error) : resolve(undefined))));
    d.delays.delete = [300];
    expect(await rejectionOf(stream.abort())).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('delete')[0].maxTimeMS).toBeLessThanOrEqual(150);
    expect(stream.destroyed).toBe(true);
  });
});

describe('downloads', () => {
  test('files and chunks finds carry maxTimeMS from the stream deadline', async () => {
    expect(await download(bucket())).toHaveLength(10);
    expect(d.sent('find').map((c) => c.find)).toEqual(['fs.files', 'fs.chunks']);
    expectMaxTimeMS(['find'], 150);
  });

  test('the timeout applies to the whole download, and can be overridden', async () => {
    d.delays.find = [90, 90];
    expect(await rejectionOf(download(bucket()))).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('find').map((c) => c.find)).toEqual(['fs.files', 'fs.chunks']);
    d.delays.find = [90, 90];
    expect(await download(bucket(), { timeoutMS: 2000 })).toHaveLength(10);
  });

  test('the deadline starts when the stream is opened', async () => {
    const stream = bucket().openDownloadStream(FILE_ID);
    await sleep(200);
    const drain = async () => {
      for await (const part of stream) void part;
    };
    expect(await rejectionOf(drain())).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('find')).toHaveLength(0);
  });
});

describe('bucket methods', () => {
  test('delete: the files and chunks deletes share one deadline', async () => {
    d.delays.delete = [90, 90];
    expect(await rejectionOf(bucket().delete(FILE_ID))).toBeInstanceOf(MongoOperationTimeoutError);
    expect(d.sent('delete').map((c) => c.delete)).toEqual(['fs.files', 'fs.chunks']);
    d.delays.delete = [90, 90];
    await bucket().delete(FILE_ID, { timeoutMS: 2000 });
  });

  test('drop: both drops share one deadline; per-call override', async () => {
    d.delays.drop = [90, 90];
    expect(await rejectionOf(bucket().drop())).toBeInstanceOf(MongoOperationTimeoutError);
    expectMaxTimeMS(['drop'], 150);
    d.delays.drop = [90, 90];
    await bucket().drop({ timeoutMS: 2000 });
  });

  test('rename and find carry maxTimeMS and honour a per-call timeoutMS', async () => {
    d.delays.update = [300];
    expect(await rejectionOf(bucket().rename(FILE_ID, 'new'))).toBeInstanceOf(MongoOperationTimeoutError);
    await bucket().rename(FILE_ID, 'newer', { timeoutMS: 1000 });
    expect(d.sent('update')[1].maxTimeMS).toBeGreaterThan(500);
    d.delays.find = [300];
    expect(await rejectionOf(bucket().find({}).toArray())).toBeInstanceOf(MongoOperationTimeoutError);
    await bucket().find({}, { timeoutMS: 1000 }).toArray();
    expect(d.sent('find')[1].maxTimeMS).toBeGreaterThan(500);
  });

  test('without timeoutMS no command carries maxTimeMS', async () => {
    await d.close();
    d = await startDeployment();
    script(d, 'find', (r) => cursorReply(r, r.body.find === 'fs.files' && r.body.filter?._id ? [FILE] : r.body.find === 'fs.chunks' ? [chunk(0, 4), chunk(1, 4), chunk(2, 2)] : [], 0));
    await upload(bucket());
    await download(bucket());
    expect(d.server.nonHelloCommands().filter((c) => c.body.maxTimeMS !== undefined)).toHaveLength(0);
  });
});

test('a failed upload refuses further writes', async () => {
  const b = bucket({ chunkSizeBytes: 1 });
  const grid = b.openGridIn('f');
  d.delays.insert = [300];
  expect(await rejectionOf(grid.write(Buffer.from([1])))).toBeInstanceOf(MongoOperationTimeoutError);
  expect(await rejectionOf(grid.write(Buffer.from([2])))).toBeInstanceOf(MongoAPIError);
});
