/**
 * GridFSBucket against an in-memory mock server: the exact commands of each operation
 * (gridfs-spec.md), the stored documents, and the error cases.
 */
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Binary, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { MongoAPIError, MongoGridFSChunkError, MongoGridFSStreamError, MongoInvalidArgumentError, MongoServerError } from '../../src/errors';
import { GridFSBucket } from '../../src/gridfs/bucket';
import { indexKeyMatches } from '../../src/gridfs/indexes';
import type { GridFSFile } from '../../src/gridfs/gridfs_file';
import { MongoClient } from '../../src/mongo_client';
import { MiniMongod } from '../tools/mini_mongod';

let cs: MiniMongod;
let client: MongoClient;
let bucket: GridFSBucket;

beforeEach(async () => {
  cs = await MiniMongod.start({ type: 'primary', setName: 'rs0' });
  client = new MongoClient(`mongodb://${cs.address}/?directConnection=true`);
  await client.connect();
  bucket = new GridFSBucket(client.db('files'), { chunkSizeBytes: 4 });
});

afterEach(async () => {
  await client.close();
  await cs.close();
});

async function upload(filename: string, data: string | Buffer, options = {}): Promise<ObjectId> {
  const stream = bucket.openUploadStream(filename, options);
  await pipeline(Readable.from([Buffer.from(data)]), stream);
  return stream.id as ObjectId;
}

async function download(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts).toString();
}

const files = () => cs.docs('files', 'fs.files');
const chunks = () => cs.docs('files', 'fs.chunks');
const commands = (name: string) => cs.server.commands(name).map((c) => c.body);

describe('upload', () => {
  test('index check, then chunks as they fill, then the files document last', async () => {
    const stream = bucket.openUploadStream('hello.txt', { metadata: { owner: 'ann' }, contentType: 'text/plain', aliases: ['hi'] });
    stream.write('hello');
    stream.write(' world');
    await new Promise<void>((resolve, reject) => stream.end(() => resolve()).on('error', reject));

    expect(cs.trace()).toEqual([
      'find fs.files',
      'listIndexes fs.files',
      'createIndexes fs.files',
      'listIndexes fs.chunks',
      'createIndexes fs.chunks',
      'insert fs.chunks',
      'insert fs.chunks',
      'insert fs.chunks',
      'insert fs.files'
    ]);
    const [emptiness] = commands('find');
    expect(emptiness).toMatchObject({ find: 'fs.files', filter: {}, projection: { _id: 1 }, limit: 1, singleBatch: true });
    const [filesIndex, chunksIndex] = commands('createIndexes');
    expect(filesIndex.indexes).toEqual([{ key: { filename: 1, uploadDate: 1 }, name: 'filename_1_uploadDate_1' }]);
    expect(chunksIndex.indexes).toEqual([{ key: { files_id: 1, n: 1 }, name: 'files_id_1_n_1', unique: true }]);

    expect(chunks().map((c) => [c.n, Buffer.from((c.data as Binary).value()).toString()])).toEqual([
      [0, 'hell'],
      [1, 'o wo'],
      [2, 'rld']
    ]);
    expect(chunks().every((c) => (c.files_id as ObjectId).equals(stream.id as ObjectId) && c._id instanceof ObjectId)).toBe(true);
    const [file] = files();
    expect(file).toEqual({
      _id: stream.id,
      length: 11,
      chunkSize: 4,
      uploadDate: expect.any(Date),
      filename: 'hello.txt',
      contentType: 'text/plain',
      aliases: ['hi'],
      metadata: { owner: 'ann' }
    });
    expect(stream.gridFSFile?.length).toBe(11);
  });

  test('the index check runs once per bucket, and not at all when the files collection has documents', async () => {
    await upload('a', 'abc');
    await upload('b', 'def');
    expect(cs.trace().filter((t) => !t.startsWith('insert'))).toEqual([
      'find fs.files',
      'listIndexes fs.files',
      'createIndexes fs.files',
      'listIndexes fs.chunks',
      'createIndexes fs.chunks'
    ]);
    cs.server.clearRecords();
    const other = new GridFSBucket(client.db('files'), { chunkSizeBytes: 4 });
    await pipeline(Readable.from([Buffer.from('x')]), other.openUploadStream('c'));
    expect(cs.trace()).toEqual(['find fs.files', 'insert fs.chunks', 'insert fs.files']);
  });

  test('existing indexes (any numeric type) are not created again', async () => {
    cs.store.ensure('files', 'fs.files').indexes.push({ name: 'custom', key: { filename: new Double(1), uploadDate: new Int32(1) } });
    cs.store.ensure('files', 'fs.chunks').indexes.push({ name: 'custom', key: { files_id: Long.fromNumber(1), n: 1.0 }, unique: true });
    await upload('a', 'abc');
    expect(cs.trace()).toEqual(['find fs.files', 'listIndexes fs.files', 'listIndexes fs.chunks', 'insert fs.chunks', 'insert fs.files']);
  });

  test('index keys compare by numeric value and by order', () => {
    const want = { filename: 1, uploadDate: 1 };
    expect(indexKeyMatches({ filename: 1, uploadDate: 1 }, want)).toBe(true);
    expect(indexKeyMatches({ filename: new Double(1), uploadDate: Long.fromNumber(1) }, want)).toBe(true);
    expect(indexKeyMatches({ filename: new Int32(1), uploadDate: 1n }, want)).toBe(true);
    expect(indexKeyMatches({ uploadDate: 1, filename: 1 }, want)).toBe(false);
    expect(indexKeyMatches({ filename: 1, uploadDate: -1 }, want)).toBe(false);
    expect(indexKeyMatches({ filename: 1 }, want)).toBe(false);
    expect(indexKeyMatches({ filename: 1, uploadDate: 1, extra: 1 }, want)).toBe(false);
    expect(indexKeyMatches({ filename: 'text', uploadDate: 1 }, want)).toBe(false);
  });

  test('a failing index creation fails the upload (and is retried by the next one)', async () => {
    cs.server.setHandler('createIndexes', { ok: 0, code: 13, errmsg: 'not authorized', codeName: 'Unauthorized' });
    await expect(upload('a', 'abc')).rejects.toThrow(MongoServerError);
    expect(chunks()).toHaveLength(0);
    cs.server.removeHandler('createIndexes');
    cs.server.setHandler('createIndexes', { ok: 1 });
    await upload('a', 'abc');
    expect(cs.server.commands('createIndexes')).toHaveLength(3);
  });

  test('an empty file: a files document with length 0 and no chunk', async () => {
    const id = await upload('empty', '');
    expect(chunks()).toHaveLength(0);
    expect(files()).toEqual([expect.objectContaining({ _id: id, length: 0, chunkSize: 4 })]);
  });

  test('exact multiples of the chunk size; custom id, custom chunk size', async () => {
    const stream = bucket.openUploadStreamWithId('my-id', 'eight', { chunkSizeBytes: 2 });
    await pipeline(Readable.from([Buffer.from('12345678')]), stream);
    expect(stream.id).toBe('my-id');
    expect(chunks().map((c) => c.n)).toEqual([0, 1, 2, 3]);
    expect(files()[0]).toMatchObject({ _id: 'my-id', length: 8, chunkSize: 2 });
  });

  test('abort deletes the chunks written so far and fails later writes', async () => {
    const stream = bucket.openUploadStream('partial');
    await new Promise<void>((resolve, reject) => stream.write('123456789', (e) => (e ? reject(e) : resolve())));
    expect(chunks()).toHaveLength(2);
    await stream.abort();
    expect(chunks()).toHaveLength(0);
    expect(files()).toHaveLength(0);
    const [del] = commands('delete');
    expect(del.deletes).toEqual([{ q: { files_id: { $eq: stream.id } }, limit: 0 }]);
  });

  test('uploadFromStream: returns the id; a failing source aborts and rethrows the source error', async () => {
    const id = await bucket.uploadFromStream('from-stream', Readable.from([Buffer.from('abc'), 'defg', Buffer.from('h')]));
    expect(files()).toEqual([expect.objectContaining({ _id: id, length: 8 })]);

    const boom = new Error('disk on fire');
    async function* failing() {
      yield Buffer.from('12345678');
      throw boom;
    }
    await expect(bucket.uploadFromStream('broken', failing())).rejects.toBe(boom);
    expect(files()).toHaveLength(1);
    expect(chunks().filter((c) => !(c.files_id as ObjectId).equals(id as ObjectId))).toHaveLength(0);

    await bucket.uploadFromStreamWithId(7, 'seven', Readable.from(['x']));
    expect(files().map((f) => f._id)).toEqual([id, 7]);
  });

  test('a failed chunk insert is reported as is, without deleting chunks', async () => {
    let inserts = 0;
    cs.server.setHandler('insert', (r) => {
      inserts += 1;
      if (inserts === 2) return { ok: 0, code: 11000, errmsg: 'E11000 duplicate key' };
      const c = cs.store.ensure(r.db, String(r.body.insert));
      for (const d of r.body.documents as Document[]) c.documents.push(d);
      return { n: 1, ok: 1 };
    });
    await expect(upload('x', '123456789')).rejects.toThrow('E11000');
    expect(chunks()).toHaveLength(1);
    expect(cs.server.commands('delete')).toHaveLength(0);
  });
});

describe('download', () => {
  test('files document by id, then the chunks sorted by n', async () => {
    const id = await upload('hello.txt', 'hello world');
    cs.server.clearRecords();
    expect(await download(bucket.openDownloadStream(id))).toBe('hello world');
    const [fileQuery, chunkQuery] = commands('find');
    expect(fileQuery).toMatchObject({ find: 'fs.files', filter: { _id: { $eq: id } }, limit: 1 });
    expect(chunkQuery).toMatchObject({ find: 'fs.chunks', filter: { files_id: { $eq: id } }, sort: { n: 1 } });
    expect(chunkQuery.limit).toBeUndefined();
  });

  test('the stream emits file before data; downloadToStream does not end the destination', async () => {
    const id = await upload('a', 'abcdefghij');
    const stream = bucket.openDownloadStream(id);
    const order: string[] = [];
    stream.on('file', (file: GridFSFile) => order.push(`file ${file.length}`));
    stream.on('data', () => order.push('data'));
    await new Promise((resolve) => stream.on('end', resolve));
    expect(order[0]).toBe('file 10');
    expect(order.slice(1).every((o) => o === 'data')).toBe(true);

    const destination = new PassThrough();
    const received: Buffer[] = [];
    destination.on('data', (d: Buffer) => received.push(d));
    await bucket.downloadToStream(id, destination, { start: 2, end: 7 });
    expect(Buffer.concat(received).toString()).toBe('cdefg');
    expect(destination.writableEnded).toBe(false);
    destination.end();
  });

  test('byte ranges query only the chunks they cover', async () => {
    const id = await upload('abc', 'abcdefghijklmnopqrstuvwxyz'); // 7 chunks of 4
    cs.server.clearRecords();
    expect(await download(bucket.openDownloadStream(id, { start: 5, end: 11 }))).toBe('fghijk');
    const chunkQuery = commands('find')[1];
    expect(chunkQuery.filter).toEqual({ files_id: { $eq: id }, n: { $gte: 1 } });
    expect(chunkQuery.limit).toBe(2);
    expect(await download(bucket.openDownloadStream(id, { start: 24 }))).toBe('yz');
    expect(await download(bucket.openDownloadStream(id, { end: 3 }))).toBe('abc');
    expect(await download(bucket.openDownloadStream(id, { start: 8, end: 12 }))).toBe('ijkl');
    cs.server.clearRecords();
    expect(await download(bucket.openDownloadStream(id, { start: 4, end: 4 }))).toBe('');
    expect(commands('find')).toHaveLength(1); // no chunk query for an empty range
  });

  test('invalid ranges are errors', async () => {
    const id = await upload('a', 'abcdef');
    for (const range of [{ start: -1 }, { end: 7 }, { start: 7 }, { start: 4, end: 2 }, { start: 1.5 }]) {
      await expect(download(bucket.openDownloadStream(id, range))).rejects.toThrow(MongoInvalidArgumentError);
    }
  });

  test('a zero-length file sends no chunk query (even if a stray empty chunk exists)', async () => {
    const id = await upload('empty', '');
    cs.store.ensure('files', 'fs.chunks').documents.push({ _id: new ObjectId(), files_id: id, n: 0, data: new Binary(Buffer.alloc(0)) });
    cs.server.clearRecords();
    expect(await download(bucket.openDownloadStream(id))).toBe('');
    expect(cs.trace()).toEqual(['find fs.files']);
  });

  test('a missing file is FileNotFound (ENOENT) naming the id', async () => {
    const id = new ObjectId();
    const error = await download(bucket.openDownloadStream(id)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MongoGridFSStreamError);
    expect((error as MongoGridFSStreamError).code).toBe('ENOENT');
    expect((error as Error).message).toBe(`FileNotFound: file ${id.toHexString()} was not found`);
  });

  describe('corrupt files', () => {
    let id: ObjectId;
    beforeEach(async () => {
      id = await upload('abc', 'abcdefghijkl'); // chunks 0, 1, 2 (4 bytes each)
    });
    const chunk = (n: number) => chunks().find((c) => c.n === n) as Document;
    const failure = async (): Promise<Error> => {
      try {
        await download(bucket.openDownloadStream(id));
      } catch (e) {
        return e as Error;
      }
      throw new Error('download succeeded');
    };

    test('an intermediate chunk is missing', async () => {
      chunks().splice(chunks().indexOf(chunk(1)), 1);
      const error = await failure();
      expect(error).toBeInstanceOf(MongoGridFSChunkError);
      expect(error.message).toMatch(/^ChunkIsMissing: got chunk n=2 .* expected n=1$/);
    });

    test('the final chunk is missing', async () => {
      chunks().splice(chunks().indexOf(chunk(2)), 1);
      expect((await failure()).message).toMatch(/^ChunkIsMissing: chunk n=2 of file .* was not found$/);
    });

    test('a chunk past the end', async () => {
      chunks().push({ _id: new ObjectId(), files_id: id, n: 3, data: new Binary(Buffer.from('zz')) });
      const error = await failure();
      expect(error).toBeInstanceOf(MongoGridFSChunkError);
      expect(error.message).toMatch(/^ExtraChunk/);
    });

    test('an intermediate or final chunk of the wrong size', async () => {
      chunk(1).data = new Binary(Buffer.from('xyz'));
      expect((await failure()).message).toMatch(/^ChunkIsWrongSize: chunk n=1 .* has 3 bytes, expected 4$/);
      chunk(1).data = new Binary(Buffer.from('efgh'));
      chunk(2).data = new Binary(Buffer.from('i'));
      expect((await failure()).message).toMatch(/^ChunkIsWrongSize: chunk n=2 .* has 1 bytes, expected 4$/);
    });
  });

  test('revisions by name: 0 oldest, 1, 2 …, -1 newest (default), -2 …', async () => {
    for (const [i, text] of ['v0', 'v1', 'v2'].entries()) {
      await upload('doc', text);
      files()[i].uploadDate = new Date(Date.UTC(2024, 0, 1 + i));
    }
    cs.server.clearRecords();
    expect(await download(bucket.openDownloadStreamByName('doc'))).toBe('v2');
    expect(commands('find')[0]).toMatchObject({ filter: { filename: 'doc' }, sort: { uploadDate: -1 }, skip: 0, limit: 1 });
    const byRevision = async (revision: number) => download(bucket.openDownloadStreamByName('doc', { revision }));
    expect(await byRevision(0)).toBe('v0');
    expect(await byRevision(1)).toBe('v1');
    expect(await byRevision(2)).toBe('v2');
    expect(await byRevision(-1)).toBe('v2');
    expect(await byRevision(-2)).toBe('v1');
    expect(await byRevision(-3)).toBe('v0');
    expect(commands('find').filter((c) => c.find === 'fs.files').slice(-1)[0]).toMatchObject({ sort: { uploadDate: -1 }, skip: 2 });
    expect(await download(bucket.openDownloadStreamByName('doc', { revision: 1, start: 1 }))).toBe('1');

    const noRevision = (await byRevision(5).catch((e: unknown) => e)) as Error;
    expect(noRevision.message).toBe('RevisionNotFound: revision 5 of the file named "doc" was not found');
    const noFile = (await download(bucket.openDownloadStreamByName('nope')).catch((e: unknown) => e)) as Error;
    expect(noFile.message).toBe('FileNotFound: no file named "nope" was found');
    expect(await bucket.findFileByName('doc', { revision: 0 })).toMatchObject({ filename: 'doc', length: 2 });
    expect(await bucket.findFileByName('nope')).toBeNull();
  });

  test('a large file streams with about one chunk in flight at a time', async () => {
    const big = new GridFSBucket(client.db('files'), { chunkSizeBytes: 64 * 1024 });
    const data = Buffer.alloc(3 * 1024 * 1024 + 123, 'x');
    const writer = big.openUploadStream('big.bin');
    await pipeline(Readable.from([data]), writer);
    const reader = big.openDownloadStream(writer.id);
    let received = 0;
    let maxPiece = 0;
    for await (const piece of reader) {
      received += (piece as Buffer).length;
      maxPiece = Math.max(maxPiece, (piece as Buffer).length);
    }
    expect(received).toBe(data.length);
    expect(maxPiece).toBe(64 * 1024);
  });
});

describe('find, delete, rename, drop', () => {
  test('find returns files documents with the given filter and options', async () => {
    await upload('a', '1', { metadata: { owner: 'ann' } });
    await upload('b', '22', { metadata: { owner: 'bob' } });
    await upload('c', '333', { metadata: { owner: 'ann' } });
    const found = await bucket.find({ 'metadata.owner': 'ann' }, { sort: { filename: -1 }, limit: 5 }).toArray();
    expect(found.map((f) => f.filename)).toEqual(['c', 'a']);
    expect(commands('find').slice(-1)[0]).toMatchObject({ find: 'fs.files', filter: { 'metadata.owner': 'ann' }, sort: { filename: -1 }, limit: 5 });
  });

  test('delete: the files document first, then its chunks', async () => {
    const id = await upload('a', 'abcdefgh');
    const keep = await upload('b', 'xyz');
    cs.server.clearRecords();
    await bucket.delete(id);
    expect(cs.trace()).toEqual(['delete fs.files', 'delete fs.chunks']);
    const [filesDelete, chunksDelete] = commands('delete');
    expect(filesDelete.deletes).toEqual([{ q: { _id: { $eq: id } }, limit: 1 }]);
    expect(chunksDelete.deletes).toEqual([{ q: { files_id: { $eq: id } }, limit: 0 }]);
    expect(files().map((f) => f._id)).toEqual([keep]);
    expect(chunks().every((c) => (c.files_id as ObjectId).equals(keep))).toBe(true);
  });

  test('delete of a missing file removes orphaned chunks, then raises FileNotFound', async () => {
    const id = await upload('a', 'abcdefgh');
    files().splice(0, 1);
    const error = (await bucket.delete(id).catch((e: unknown) => e)) as MongoGridFSStreamError;
    expect(error).toBeInstanceOf(MongoGridFSStreamError);
    expect(error.code).toBe('ENOENT');
    expect(chunks()).toHaveLength(0);
  });

  test('deleteByName removes every revision', async () => {
    await upload('a', '1');
    await upload('a', '2');
    await upload('b', '3');
    await bucket.deleteByName('a');
    expect(files().map((f) => f.filename)).toEqual(['b']);
    expect(chunks()).toHaveLength(1);
    await expect(bucket.deleteByName('a')).rejects.toThrow('FileNotFound');
  });

  test('rename: updateOne with $set filename; missing file raises', async () => {
    const id = await upload('old', 'abc');
    cs.server.clearRecords();
    await bucket.rename(id, 'new');
    expect(commands('update')[0].updates).toEqual([{ q: { _id: { $eq: id } }, u: { $set: { filename: 'new' } } }]);
    expect(files()[0].filename).toBe('new');
    await expect(bucket.rename(new ObjectId(), 'x')).rejects.toThrow(MongoGridFSStreamError);
  });

  test('renameByName renames every revision', async () => {
    await upload('a', '1');
    await upload('a', '2');
    await bucket.renameByName('a', 'z');
    expect(files().map((f) => f.filename)).toEqual(['z', 'z']);
    expect(commands('update')[0].updates[0]).toMatchObject({ q: { filename: 'a' }, u: { $set: { filename: 'z' } }, multi: true });
    await expect(bucket.renameByName('a', 'q')).rejects.toThrow('FileNotFound');
  });

  test('drop: files collection, then chunks collection; the next upload checks indexes again', async () => {
    await upload('a', 'abc');
    cs.server.clearRecords();
    await bucket.drop();
    expect(cs.trace()).toEqual(['drop fs.files', 'drop fs.chunks']);
    await upload('b', 'abc');
    expect(cs.server.commands('createIndexes')).toHaveLength(2);
  });

  test('bucket options: name, chunk size validation, write concern and read preference', async () => {
    const custom = new GridFSBucket(client.db('files'), { bucketName: 'images', writeConcern: { w: 'majority' }, readPreference: 'primaryPreferred' });
    expect(custom.chunkSizeBytes).toBe(255 * 1024);
    await pipeline(Readable.from(['x']), custom.openUploadStream('x'));
    expect(cs.server.commands('insert').map((c) => [c.body.insert, c.body.writeConcern])).toEqual([
      ['images.chunks', { w: 'majority' }],
      ['images.files', { w: 'majority' }]
    ]);
    expect(() => new GridFSBucket(client.db('files'), { chunkSizeBytes: 0 })).toThrow(MongoInvalidArgumentError);
    expect(() => bucket.openUploadStream('x', { chunkSizeBytes: -4 })).toThrow(MongoInvalidArgumentError);
  });

  test('writing to an aborted or finished upload fails', async () => {
    const gridIn = bucket.openGridIn('x');
    await gridIn.write('abc');
    await gridIn.close();
    await expect(gridIn.write('more')).rejects.toThrow(MongoAPIError);
    await expect(gridIn.abort()).rejects.toThrow(MongoAPIError);
  });
});
