/** Motor's file objects over a mock server: GridIn, GridOut, GridOutCursor. */
import { ObjectId } from 'bson';
import { MongoGridFSStreamError, MongoInvalidArgumentError } from '../../src/errors';
import { GridFSBucket } from '../../src/gridfs/bucket';
import { SEEK_CUR, SEEK_END, type GridOut } from '../../src/gridfs/grid_out';
import { MongoClient } from '../../src/mongo_client';
import { MiniMongod } from '../tools/mini_mongod';

let cs: MiniMongod;
let client: MongoClient;
let bucket: GridFSBucket;

beforeEach(async () => {
  cs = await MiniMongod.start({ type: 'primary', setName: 'rs0' });
  client = new MongoClient(`mongodb://${cs.address}/?directConnection=true`);
  bucket = new GridFSBucket(client.db('files'), { chunkSizeBytes: 4 });
});

afterEach(async () => {
  await client.close();
  await cs.close();
});

const files = () => cs.docs('files', 'fs.files');
const chunkQueries = () => cs.server.commands('find').filter((c) => c.body.find === 'fs.chunks').map((c) => c.body);

async function store(name: string, text: string): Promise<ObjectId> {
  const gridIn = bucket.openGridIn(name);
  await gridIn.write(text);
  await gridIn.close();
  return gridIn._id as ObjectId;
}

describe('GridIn', () => {
  test('write, writelines, set before close; attributes before and after close', async () => {
    const gridIn = bucket.openGridIn('report.csv', { contentType: 'text/csv', metadata: { year: 2024 } });
    expect(gridIn._id).toBeInstanceOf(ObjectId);
    expect([gridIn.filename, gridIn.name, gridIn.contentType, gridIn.chunkSize, gridIn.closed]).toEqual(['report.csv', 'report.csv', 'text/csv', 4, false]);
    await gridIn.write('a,b\n');
    await gridIn.writelines(['1,2\n', Buffer.from('3,4\n')]);
    async function* more() {
      yield '5,6\n';
    }
    await gridIn.writelines(more());
    await gridIn.set('department', 'sales');
    expect(gridIn.get('department')).toBe('sales');
    expect(gridIn.length).toBe(16);
    expect(gridIn.uploadDate).toBeUndefined();
    await gridIn.close();
    await gridIn.close(); // idempotent
    expect(gridIn.closed).toBe(true);
    expect(gridIn.uploadDate).toBeInstanceOf(Date);
    expect(files()).toEqual([
      {
        _id: gridIn._id,
        length: 16,
        chunkSize: 4,
        uploadDate: gridIn.uploadDate,
        filename: 'report.csv',
        contentType: 'text/csv',
        metadata: { year: 2024 },
        department: 'sales'
      }
    ]);
    expect(cs.server.commands('insert').filter((c) => c.body.insert === 'fs.files')).toHaveLength(1);
  });

  test('set after close updates the stored files document', async () => {
    const gridIn = bucket.openGridIn('x');
    await gridIn.write('abc');
    await gridIn.close();
    await gridIn.set('reviewed', true);
    expect(cs.server.lastCommand('update')?.body.updates).toEqual([{ q: { _id: { $eq: gridIn._id } }, u: { $set: { reviewed: true } } }]);
    expect(files()[0].reviewed).toBe(true);
    expect(gridIn.get('reviewed')).toBe(true);
    await expect(gridIn.set('length', 1)).rejects.toThrow(MongoGridFSStreamError);
  });

  test('abort deletes written chunks; openGridInWithId uses the given id', async () => {
    const gridIn = bucket.openGridInWithId('custom', 'x');
    expect(gridIn._id).toBe('custom');
    await gridIn.write('123456789');
    expect(cs.docs('files', 'fs.chunks')).toHaveLength(2);
    await gridIn.abort();
    expect(gridIn.closed).toBe(true);
    expect(cs.docs('files', 'fs.chunks')).toHaveLength(0);
    expect(files()).toHaveLength(0);
  });
});

describe('GridOut', () => {
  test('open() loads the files document; attributes', async () => {
    const gridIn = bucket.openGridIn('notes.txt', { contentType: 'text/plain', aliases: ['n'], metadata: { a: 1 } });
    await gridIn.write('hello');
    await gridIn.set('extra', 'yes');
    await gridIn.close();
    const gridOut = await bucket.openGridOut(gridIn._id);
    expect(gridOut._id).toEqual(gridIn._id);
    expect([gridOut.filename, gridOut.name, gridOut.length, gridOut.chunkSize, gridOut.contentType]).toEqual(['notes.txt', 'notes.txt', 5, 4, 'text/plain']);
    expect(gridOut.uploadDate).toEqual(gridIn.uploadDate);
    expect(gridOut.metadata).toEqual({ a: 1 });
    expect(gridOut.aliases).toEqual(['n']);
    expect(gridOut.md5).toBeUndefined();
    expect(gridOut.get('extra')).toBe('yes');
    expect(gridOut.document.filename).toBe('notes.txt');
  });

  test('a missing file: FileNotFound from openGridOut / openGridOutByName', async () => {
    const error = (await bucket.openGridOut(new ObjectId()).catch((e: unknown) => e)) as MongoGridFSStreamError;
    expect(error).toBeInstanceOf(MongoGridFSStreamError);
    expect(error.code).toBe('ENOENT');
    await expect(bucket.openGridOutByName('nope')).rejects.toThrow('FileNotFound');
  });

  test('read(size), read(), tell, and the end of the file', async () => {
    const id = await store('a', 'abcdefghijklmnopq'); // 17 bytes, chunks of 4
    const gridOut = await bucket.openGridOut(id);
    expect((await gridOut.read(3)).toString()).toBe('abc');
    expect(gridOut.tell()).toBe(3);
    expect((await gridOut.read(6)).toString()).toBe('defghi');
    expect((await gridOut.read()).toString()).toBe('jklmnopq');
    expect(gridOut.tell()).toBe(17);
    expect((await gridOut.read()).length).toBe(0);
    expect((await gridOut.read(5)).length).toBe(0);
    // Sequential reads used one chunk cursor.
    expect(chunkQueries()).toHaveLength(1);
  });

  test('readChunk returns the rest of the current chunk', async () => {
    const id = await store('a', 'abcdefghij');
    const gridOut = await bucket.openGridOut(id);
    await gridOut.read(1);
    const pieces: string[] = [];
    for (;;) {
      const piece = await gridOut.readChunk();
      if (piece.length === 0) break;
      pieces.push(piece.toString());
    }
    expect(pieces).toEqual(['bcd', 'efgh', 'ij']);
  });

  test('readline stops after a newline or at size', async () => {
    const id = await store('lines', 'first line\nsecond\n\nlast');
    const gridOut = await bucket.openGridOut(id);
    expect((await gridOut.readline()).toString()).toBe('first line\n');
    expect((await gridOut.readline(3)).toString()).toBe('sec');
    expect((await gridOut.readline()).toString()).toBe('ond\n');
    expect((await gridOut.readline()).toString()).toBe('\n');
    expect((await gridOut.readline()).toString()).toBe('last');
    expect((await gridOut.readline()).toString()).toBe('');
  });

  test('seek (SET, CUR, END): within a chunk no new query, elsewhere a query from that chunk', async () => {
    const id = await store('a', 'abcdefghijklmnopqrstuvwxyz');
    const gridOut = await bucket.openGridOut(id);
    expect((await gridOut.read(2)).toString()).toBe('ab');
    expect(gridOut.seek(1)).toBe(1);
    expect((await gridOut.read(2)).toString()).toBe('bc');
    expect(chunkQueries()).toHaveLength(1);
    expect(gridOut.seek(-3, SEEK_END)).toBe(23);
    expect((await gridOut.read()).toString()).toBe('xyz');
    expect(chunkQueries().slice(-1)[0].filter).toEqual({ files_id: { $eq: id }, n: { $gte: 5 } });
    gridOut.seek(10);
    expect(gridOut.seek(2, SEEK_CUR)).toBe(12);
    expect((await gridOut.read(3)).toString()).toBe('mno');
    expect(gridOut.seek(100)).toBe(100);
    expect((await gridOut.read()).length).toBe(0);
    expect(() => gridOut.seek(-1)).toThrow(MongoInvalidArgumentError);
    expect(() => gridOut.seek(0, 7)).toThrow(MongoInvalidArgumentError);
    await gridOut.close();
  });

  test('for await yields the rest of the file chunk by chunk', async () => {
    const id = await store('a', 'abcdefghij');
    const gridOut = await bucket.openGridOut(id);
    const pieces: string[] = [];
    for await (const piece of gridOut) pieces.push(piece.toString());
    expect(pieces).toEqual(['abcd', 'efgh', 'ij']);
  });

  test('openGridOutByName picks the revision', async () => {
    await store('doc', 'one');
    await store('doc', 'two');
    files()[0].uploadDate = new Date(1000);
    files()[1].uploadDate = new Date(2000);
    expect((await (await bucket.openGridOutByName('doc')).read()).toString()).toBe('two');
    expect((await (await bucket.openGridOutByName('doc', { revision: 0 })).read()).toString()).toBe('one');
  });
});

describe('GridOutCursor', () => {
  test('findGridOut yields opened GridOut objects; sort/limit apply', async () => {
    await store('b.txt', 'bee');
    await store('a.txt', 'ay');
    await store('c.txt', 'sea');
    const cursor = bucket.findGridOut({ length: { $gte: 3 } }).sort({ filename: 1 }).limit(5);
    const found: GridOut[] = [];
    for await (const gridOut of cursor) found.push(gridOut);
    expect(found.map((g) => g.filename)).toEqual(['b.txt', 'c.txt']);
    expect((await found[1].read()).toString()).toBe('sea');
    // The files documents came from the find: no second files lookup before reading.
    expect(cs.server.commands('find').filter((c) => c.body.find === 'fs.files' && c.body.filter._id !== undefined)).toHaveLength(0);
    const first = await bucket.findGridOut({ filename: 'a.txt' }).next();
    expect(first?.length).toBe(2);
  });
});
