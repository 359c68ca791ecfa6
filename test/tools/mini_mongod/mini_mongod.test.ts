/** The mini mongod's data semantics, command by command (through `execute`), and once over the wire. */
import { Long, ObjectId, type Document } from 'bson';
import { MongoClient } from '../../../src';
import { MiniMongod, type ChangeEvent } from '../mini_mongod';

let mini: MiniMongod;
let events: ChangeEvent[];

beforeEach(() => {
  events = [];
  mini = new MiniMongod(undefined, { onChange: (e) => events.push(e) });
});

const run = (body: Document, db = 'db'): Document => mini.execute({ commandName: Object.keys(body)[0], db, body });
const find = (filter: Document, extra: Document = {}): Document[] => run({ find: 'c', filter, ...extra }).cursor.firstBatch;
const ids = (docs: Document[]) => docs.map((d) => d._id);

describe('query language', () => {
  beforeEach(() => {
    mini.seed('db', 'c', [
      { _id: 1, a: 1, tags: ['x', 'y'], sub: { b: 'Hello' }, items: [{ n: 1, k: 'p' }, { n: 5, k: 'q' }] },
      { _id: 2, a: 2, tags: ['y'], sub: { b: 'world' }, items: [{ n: 3, k: 'p' }] },
      { _id: 3, a: 'three', tags: [], nil: null },
      { _id: 4, a: Long.fromNumber(2), tags: ['x', 'y', 'z'] }
    ]);
  });

  test('equality: numbers by value across types, arrays element-wise and whole, null matches missing', () => {
    expect(ids(find({ a: 2 }))).toEqual([2, 4]);
    expect(ids(find({ tags: 'x' }))).toEqual([1, 4]);
    expect(ids(find({ tags: ['y'] }))).toEqual([2]);
    expect(ids(find({ nil: null }))).toEqual([1, 2, 3, 4]);
    expect(ids(find({ 'sub.b': 'world' }))).toEqual([2]);
    expect(ids(find({ 'items.k': 'p' }))).toEqual([1, 2]);
    expect(ids(find({ 'items.1.n': 5 }))).toEqual([1]);
  });

  test('comparison operators stay within a type bracket', () => {
    expect(ids(find({ a: { $gt: 1 } }))).toEqual([2, 4]);
    expect(ids(find({ a: { $gte: 1, $lt: 2 } }))).toEqual([1]);
    expect(ids(find({ a: { $lte: 'zzz' } }))).toEqual([3]);
    expect(ids(find({ a: { $ne: 2 } }))).toEqual([1, 3]);
    expect(ids(find({ a: { $eq: 1 } }))).toEqual([1]);
    expect(ids(find({ 'items.n': { $gt: 4 } }))).toEqual([1]);
  });

  test('$in $nin $exists $not $and $or $nor $regex $size $all $elemMatch $type', () => {
    expect(ids(find({ a: { $in: [1, 'three'] } }))).toEqual([1, 3]);
    expect(ids(find({ a: { $nin: [1, 'three'] } }))).toEqual([2, 4]);
    expect(ids(find({ sub: { $exists: false } }))).toEqual([3, 4]);
    expect(ids(find({ a: { $not: { $gt: 1 } } }))).toEqual([1, 3]);
    expect(ids(find({ $and: [{ tags: 'x' }, { tags: 'z' }] }))).toEqual([4]);
    expect(ids(find({ $or: [{ a: 1 }, { a: 'three' }] }))).toEqual([1, 3]);
    expect(ids(find({ $nor: [{ a: 1 }, { a: 'three' }] }))).toEqual([2, 4]);
    expect(ids(find({ 'sub.b': { $regex: '^hel', $options: 'i' } }))).toEqual([1]);
    expect(ids(find({ 'sub.b': /orl/ }))).toEqual([2]);
    expect(ids(find({ tags: { $size: 0 } }))).toEqual([3]);
    expect(ids(find({ tags: { $all: ['x', 'y'] } }))).toEqual([1, 4]);
    expect(ids(find({ items: { $elemMatch: { n: { $gte: 3 }, k: 'p' } } }))).toEqual([2]);
    expect(ids(find({ a: { $type: 'string' } }))).toEqual([3]);
    expect(ids(find({ a: { $type: 'long' } }))).toEqual([4]);
    expect(ids(find({ tags: { $type: 'array' } }))).toEqual([1, 2, 3, 4]);
  });

  test('an unknown operator is a BadValue error reply', () => {
    expect(run({ find: 'c', filter: { a: { $nope: 1 } } })).toMatchObject({ ok: 0, code: 2, codeName: 'BadValue' });
  });

  test('sort (arrays by their smallest/largest element), skip, limit', () => {
    expect(ids(find({}, { sort: { a: -1, _id: 1 } }))).toEqual([3, 2, 4, 1]);
    expect(ids(find({}, { sort: { tags: 1, _id: 1 } }))).toEqual([3, 1, 4, 2]);
    expect(ids(find({}, { sort: { tags: -1, _id: 1 } }))).toEqual([4, 1, 2, 3]);
    expect(ids(find({}, { sort: { _id: -1 }, skip: 1, limit: 2 }))).toEqual([3, 2]);
  });

  test('projection: _id kept unless excluded, {_id: 1} alone keeps only _id, dotted paths, exclusion, computed fields', () => {
    expect(find({ _id: 1 }, { projection: { _id: 1 } })).toEqual([{ _id: 1 }]);
    expect(find({ _id: 1 }, { projection: { a: 1 } })).toEqual([{ _id: 1, a: 1 }]);
    expect(find({ _id: 1 }, { projection: { _id: 0, a: 1 } })).toEqual([{ a: 1 }]);
    expect(find({ _id: 1 }, { projection: { 'sub.b': 1, 'items.k': 1 } })).toEqual([{ _id: 1, sub: { b: 'Hello' }, items: [{ k: 'p' }, { k: 'q' }] }]);
    expect(find({ _id: 2 }, { projection: { tags: 0, items: 0, sub: 0 } })).toEqual([{ _id: 2, a: 2 }]);
    expect(find({ _id: 2 }, { projection: { _id: 0, twice: { $multiply: ['$a', 2] } } })).toEqual([{ twice: 4 }]);
  });
});

describe('cursors', () => {
  beforeEach(() => mini.seed('db', 'c', Array.from({ length: 5 }, (_, i) => ({ _id: i }))));

  test('batchSize, getMore to exhaustion, killCursors, CursorNotFound, singleBatch, negative limit', () => {
    const first = run({ find: 'c', filter: {}, batchSize: 2 }).cursor;
    expect(ids(first.firstBatch)).toEqual([0, 1]);
    expect(mini.openCursorCount).toBe(1);
    const next = run({ getMore: first.id, collection: 'c', batchSize: 2 }).cursor;
    expect(ids(next.nextBatch)).toEqual([2, 3]);
    const last = run({ getMore: first.id, collection: 'c' }).cursor;
    expect([ids(last.nextBatch), last.id.toString()]).toEqual([[4], '0']);
    expect(mini.openCursorCount).toBe(0);
    expect(run({ getMore: first.id, collection: 'c' })).toMatchObject({ ok: 0, code: 43, codeName: 'CursorNotFound' });

    const other = run({ find: 'c', filter: {}, batchSize: 1 }).cursor;
    expect(run({ killCursors: 'c', cursors: [other.id, Long.fromNumber(9)] })).toMatchObject({ cursorsKilled: [other.id], cursorsNotFound: [Long.fromNumber(9)] });
    expect(run({ find: 'c', filter: {}, batchSize: 1, singleBatch: true }).cursor.id.toString()).toBe('0');
    expect(run({ find: 'c', filter: {}, limit: -2 }).cursor).toMatchObject({ id: Long.ZERO, firstBatch: [{ _id: 0 }, { _id: 1 }] });
    expect(mini.openCursorCount).toBe(0);
  });

  test('the first batch defaults to 101 documents', () => {
    mini.seed('db', 'big', Array.from({ length: 150 }, (_, i) => ({ _id: i })));
    const cursor = run({ find: 'big', filter: {} }).cursor;
    expect(cursor.firstBatch).toHaveLength(101);
    expect(run({ getMore: cursor.id, collection: 'big' }).cursor.nextBatch).toHaveLength(49);
  });
});

describe('writes', () => {
  test('insert: the server gives _id to documents without one (counted), duplicate keys are E11000 write errors', () => {
    expect(run({ insert: 'c', documents: [{ _id: 1 }, { x: 1 }] })).toEqual({ n: 2, ok: 1 });
    expect(mini.serverGeneratedIds).toBe(1);
    expect(mini.docs('db', 'c')[1]._id).toBeInstanceOf(ObjectId);
    const reply = run({ insert: 'c', documents: [{ _id: 2 }, { _id: 1 }, { _id: 3 }] });
    expect(reply).toMatchObject({ n: 1, writeErrors: [{ index: 1, code: 11000, keyPattern: { _id: 1 }, keyValue: { _id: 1 } }] });
    expect(reply.writeErrors[0].errmsg).toBe('E11000 duplicate key error collection: db.c index: _id_ dup key: { _id: 1 }');
    expect(run({ insert: 'c', documents: [{ _id: 1 }, { _id: 4 }], ordered: false })).toMatchObject({ n: 1, writeErrors: [{ index: 0 }] });
    expect(ids(mini.docs('db', 'c'))).toEqual([1, expect.any(ObjectId), 2, 4]);
  });

  test('unique indexes are enforced on insert and update, and checked when built; sparse ones skip missing keys', () => {
    mini.seed('db', 'c', [{ _id: 1, email: 'a' }, { _id: 2, email: 'b' }, { _id: 3 }]);
    expect(run({ createIndexes: 'c', indexes: [{ key: { email: 1 }, name: 'email_1', unique: true, sparse: true }] })).toMatchObject({ numIndexesBefore: 1, numIndexesAfter: 2, ok: 1 });
    expect(run({ insert: 'c', documents: [{ _id: 4, email: 'a' }] }).writeErrors[0]).toMatchObject({ code: 11000, keyValue: { email: 'a' } });
    expect(run({ insert: 'c', documents: [{ _id: 5 }] })).toEqual({ n: 1, ok: 1 });
    expect(run({ update: 'c', updates: [{ q: { _id: 2 }, u: { $set: { email: 'a' } } }] }).writeErrors[0]).toMatchObject({ code: 11000 });
    expect(run({ createIndexes: 'c', indexes: [{ key: { x: 1 }, name: 'x_1', unique: true }] })).toMatchObject({ ok: 0, code: 11000 });
    expect(run({ createIndexes: 'c', indexes: [{ key: { email: 1 }, name: 'other' }] })).toMatchObject({ ok: 0, code: 85, codeName: 'IndexOptionsConflict' });
    expect(run({ createIndexes: 'c', indexes: [{ key: { email: 1 }, name: 'email_1', unique: true, sparse: true }] })).toMatchObject({ note: 'all indexes already exist' });
  });

  const doc = () => mini.docs('db', 'c')[0];
  const update = (u: unknown, extra: Document = {}) => run({ update: 'c', updates: [{ q: { _id: 1 }, u, ...extra }] });

  test('update operators', () => {
    mini.seed('db', 'c', [{ _id: 1, n: 5, m: 2, s: 'x', arr: [1, 2, 3, 2], sub: { a: 1 }, old: 1 }]);
    expect(update({ $set: { 'sub.b': 2, s: 'y' }, $unset: { old: '' }, $inc: { n: 2 }, $mul: { m: 3 } })).toEqual({ n: 1, nModified: 1, ok: 1 });
    expect(doc()).toEqual({ _id: 1, n: 7, m: 6, s: 'y', arr: [1, 2, 3, 2], sub: { a: 1, b: 2 } });
    update({ $min: { n: 3 }, $max: { m: 10 }, $rename: { s: 't' } });
    expect(doc()).toMatchObject({ n: 3, m: 10, t: 'y' });
    expect(doc()).not.toHaveProperty('s');
    update({ $pull: { arr: 2 } });
    expect(doc().arr).toEqual([1, 3]);
    update({ $push: { arr: { $each: [9, 0], $position: 0 } } });
    expect(doc().arr).toEqual([9, 0, 1, 3]);
    update({ $push: { arr: { $each: [5], $sort: 1, $slice: 3 } } });
    expect(doc().arr).toEqual([0, 1, 3]);
    update({ $addToSet: { arr: { $each: [1, 4] } } });
    expect(doc().arr).toEqual([0, 1, 3, 4]);
    update({ $pullAll: { arr: [0, 4] }, $pop: { other: 1 } });
    expect(doc().arr).toEqual([1, 3]);
    update({ $pop: { arr: -1 } });
    expect(doc().arr).toEqual([3]);
    update({ $pull: { arr: { $gte: 3 } }, $currentDate: { at: true } });
    expect(doc()).toMatchObject({ arr: [], at: expect.any(Date) });
    expect(update({ $set: { n: 3 } })).toEqual({ n: 1, nModified: 0, ok: 1 }); // no change, not modified
    expect(update({ $inc: { t: 1 } })).toMatchObject({ writeErrors: [{ code: 14 }] });
    expect(update({ $set: { _id: 2 } })).toMatchObject({ writeErrors: [{ code: 66 }] });
    expect(update({ $bogus: { a: 1 } })).toMatchObject({ writeErrors: [{ code: 9 }] });
  });

  test('replacement keeps _id; arrayFilters, $[] and positional $; pipeline updates', () => {
    mini.seed('db', 'c', [{ _id: 1, grades: [80, 95, 90], items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] }]);
    update({ x: 1 });
    expect(doc()).toEqual({ _id: 1, x: 1 });
    mini.seed('db', 'c', [{ _id: 1, grades: [80, 95, 90], items: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] }]);
    update({ $set: { 'grades.$[high]': 100 } }, { arrayFilters: [{ high: { $gte: 90 } }] });
    expect(doc().grades).toEqual([80, 100, 100]);
    update({ $inc: { 'items.$[].v': 10 } });
    expect(doc().items).toEqual([{ k: 'a', v: 11 }, { k: 'b', v: 12 }]);
    run({ update: 'c', updates: [{ q: { _id: 1, 'items.k': 'b' }, u: { $set: { 'items.$.v': 0 } } }] });
    expect(doc().items[1]).toEqual({ k: 'b', v: 0 });
    update([{ $set: { total: { $sum: '$grades' } } }, { $unset: 'items' }]);
    expect(doc()).toEqual({ _id: 1, grades: [80, 100, 100], total: 280 });
  });

  test('upserts, multi, delete limits', () => {
    expect(run({ update: 'c', updates: [{ q: { k: 'a', n: { $gt: 1 } }, u: { $set: { v: 1 }, $setOnInsert: { created: true } }, upsert: true }] })).toMatchObject({
      n: 1,
      nModified: 0,
      upserted: [{ index: 0, _id: expect.any(ObjectId) }]
    });
    expect(mini.docs('db', 'c')[0]).toEqual({ _id: expect.any(ObjectId), k: 'a', v: 1, created: true });
    run({ update: 'c', updates: [{ q: { _id: 7 }, u: { k: 'b' }, upsert: true }] });
    expect(mini.docs('db', 'c')[1]).toEqual({ _id: 7, k: 'b' });
    run({ update: 'c', updates: [{ q: { k: 'a' }, u: { $set: { v: 2 }, $setOnInsert: { created: false } }, upsert: true }] });
    expect(mini.docs('db', 'c')[0]).toMatchObject({ v: 2, created: true });
    expect(run({ update: 'c', updates: [{ q: {}, u: { $set: { all: 1 } }, multi: true }] })).toMatchObject({ n: 2, nModified: 2 });
    expect(run({ update: 'c', updates: [{ q: {}, u: { all: 2 }, multi: true }] })).toMatchObject({ writeErrors: [{ code: 9 }] });
    run({ insert: 'c', documents: [{ _id: 8, all: 1 }] });
    expect(run({ delete: 'c', deletes: [{ q: { all: 1 }, limit: 1 }] })).toEqual({ n: 1, ok: 1 });
    expect(run({ delete: 'c', deletes: [{ q: { all: 1 }, limit: 0 }] })).toEqual({ n: 2, ok: 1 });
    expect(mini.docs('db', 'c')).toEqual([]);
  });

  test('findAndModify: before/after image, fields, sort, remove, upsert', () => {
    mini.seed('db', 'c', [{ _id: 1, n: 1 }, { _id: 2, n: 2 }]);
    expect(run({ findAndModify: 'c', query: {}, sort: { n: -1 }, update: { $inc: { n: 10 } } })).toMatchObject({ lastErrorObject: { n: 1, updatedExisting: true }, value: { _id: 2, n: 2 } });
    expect(run({ findAndModify: 'c', query: { _id: 2 }, update: { $inc: { n: 1 } }, new: true, fields: { _id: 0 } }).value).toEqual({ n: 13 });
    expect(run({ findAndModify: 'c', query: { _id: 1 }, remove: true }).value).toEqual({ _id: 1, n: 1 });
    expect(run({ findAndModify: 'c', query: { _id: 5 }, update: { $set: { n: 5 } }, upsert: true, new: true })).toMatchObject({ lastErrorObject: { n: 1, updatedExisting: false, upserted: 5 }, value: { _id: 5, n: 5 } });
    expect(run({ findAndModify: 'c', query: { _id: 9 }, update: { $set: { n: 9 } } })).toMatchObject({ lastErrorObject: { n: 0 }, value: null });
  });

  test('change events for writes', () => {
    run({ insert: 'c', documents: [{ _id: 1, a: 1, b: 1 }] });
    run({ update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { a: 2 }, $unset: { b: 1 } } }] });
    run({ update: 'c', updates: [{ q: { _id: 1 }, u: { z: 1 } }] });
    run({ delete: 'c', deletes: [{ q: {}, limit: 0 }] });
    run({ drop: 'c' });
    expect(events.map((e) => e.operationType)).toEqual(['insert', 'update', 'replace', 'delete', 'drop']);
    expect(events[1].updateDescription).toEqual({ updatedFields: { a: 2 }, removedFields: ['b'], truncatedArrays: [] });
  });
});

describe('aggregation', () => {
  beforeEach(() => {
    mini.seed('db', 'sales', [
      { _id: 1, item: 'a', qty: 2, price: 10, tags: ['x', 'y'] },
      { _id: 2, item: 'b', qty: 1, price: 20, tags: ['y'] },
      { _id: 3, item: 'a', qty: 5, price: 10 }
    ]);
    mini.seed('db', 'items', [{ _id: 'a', name: 'Apple' }, { _id: 'b', name: 'Bread' }]);
  });
  const aggregate = (pipeline: Document[], coll: unknown = 'sales') => run({ aggregate: coll, pipeline, cursor: {} });
  const batch = (pipeline: Document[], coll: unknown = 'sales') => aggregate(pipeline, coll).cursor.firstBatch as Document[];

  test('$group accumulators, $sort, $project, $addFields, $unset', () => {
    expect(
      batch([
        { $group: { _id: '$item', total: { $sum: { $multiply: ['$qty', '$price'] } }, avg: { $avg: '$qty' }, min: { $min: '$qty' }, max: { $max: '$qty' }, ids: { $push: '$_id' }, first: { $first: '$_id' }, last: { $last: '$_id' }, n: { $count: {} } } },
        { $sort: { _id: 1 } }
      ])
    ).toEqual([
      { _id: 'a', total: 70, avg: 3.5, min: 2, max: 5, ids: [1, 3], first: 1, last: 3, n: 2 },
      { _id: 'b', total: 20, avg: 1, min: 1, max: 1, ids: [2], first: 2, last: 2, n: 1 }
    ]);
    expect(batch([{ $match: { _id: 1 } }, { $addFields: { value: { $multiply: ['$qty', '$price'] } } }, { $unset: ['tags', 'price'] }, { $project: { _id: 0, item: 1, value: 1 } }])).toEqual([{ item: 'a', value: 20 }]);
  });

  test('$unwind, $count, $skip, $limit, $lookup, $facet, $documents', () => {
    expect(batch([{ $unwind: '$tags' }, { $project: { tags: 1 } }])).toEqual([{ _id: 1, tags: 'x' }, { _id: 1, tags: 'y' }, { _id: 2, tags: 'y' }]);
    expect(batch([{ $unwind: { path: '$tags', preserveNullAndEmptyArrays: true } }, { $count: 'n' }])).toEqual([{ n: 4 }]);
    expect(batch([{ $skip: 1 }, { $limit: 1 }, { $project: { _id: 1 } }])).toEqual([{ _id: 2 }]);
    expect(batch([{ $match: { _id: 2 } }, { $lookup: { from: 'items', localField: 'item', foreignField: '_id', as: 'info' } }, { $project: { info: 1 } }])).toEqual([
      { _id: 2, info: [{ _id: 'b', name: 'Bread' }] }
    ]);
    expect(batch([{ $facet: { count: [{ $count: 'n' }], big: [{ $match: { qty: { $gt: 2 } } }, { $project: { _id: 1 } }] } }])).toEqual([{ count: [{ n: 3 }], big: [{ _id: 3 }] }]);
    expect(batch([{ $documents: [{ x: 1 }, { x: 2 }] }, { $match: { x: 2 } }], 1)).toEqual([{ x: 2 }]);
    expect(aggregate([{ $nope: {} }])).toMatchObject({ ok: 0, code: 40324 });
  });

  test('$out replaces a collection, $merge merges into one', () => {
    expect(aggregate([{ $match: { item: 'a' } }, { $out: 'only_a' }]).cursor.firstBatch).toEqual([]);
    expect(ids(mini.docs('db', 'only_a'))).toEqual([1, 3]);
    aggregate([{ $match: { item: 'b' } }, { $set: { merged: true } }, { $merge: { into: 'only_a' } }]);
    expect(mini.docs('db', 'only_a')).toHaveLength(3);
    aggregate([{ $match: { _id: 1 } }, { $project: { qty: { $literal: 99 } } }, { $merge: { into: 'only_a', whenMatched: 'merge' } }]);
    expect(mini.docs('db', 'only_a')[0]).toMatchObject({ _id: 1, item: 'a', qty: 99 });
  });
});

describe('management', () => {
  test('create, listCollections, listIndexes, dropIndexes, renameCollection, drop, dropDatabase, listDatabases, count, distinct', () => {
    expect(run({ create: 'c', capped: true, size: 1024 })).toEqual({ ok: 1 });
    expect(run({ create: 'c' })).toMatchObject({ ok: 0, code: 48, codeName: 'NamespaceExists' });
    run({ create: 'v', viewOn: 'c', pipeline: [{ $match: { a: 1 } }] });
    run({ insert: 'c', documents: [{ _id: 1, a: 1, t: ['p', 'q'] }, { _id: 2, a: 2, t: ['q'] }] });
    expect(run({ listCollections: 1, filter: {}, nameOnly: true }).cursor.firstBatch).toEqual([{ name: 'c', type: 'collection' }, { name: 'v', type: 'view' }]);
    expect(run({ listCollections: 1, filter: { name: 'c' } }).cursor.firstBatch).toEqual([
      { name: 'c', type: 'collection', options: { capped: true, size: 1024 }, info: { readOnly: false }, idIndex: { v: 2, key: { _id: 1 }, name: '_id_' } }
    ]);
    expect(ids(find({}, { find: 'v' }))).toEqual([1]);
    expect(run({ insert: 'v', documents: [{}] })).toMatchObject({ ok: 0, code: 166 });
    expect(run({ count: 'c', query: { a: { $gt: 0 } } }).n).toBe(2);
    expect(run({ distinct: 'c', key: 't', query: {} }).values).toEqual(['p', 'q']);

    run({ createIndexes: 'c', indexes: [{ key: { a: 1 }, name: 'a_1' }, { key: { t: -1 }, name: 't_-1' }] });
    expect(run({ listIndexes: 'c', cursor: {} }).cursor.firstBatch.map((i: Document) => i.name)).toEqual(['_id_', 'a_1', 't_-1']);
    expect(run({ dropIndexes: 'c', index: { a: 1 } })).toEqual({ nIndexesWas: 3, ok: 1 });
    expect(run({ dropIndexes: 'c', index: 'nope' })).toMatchObject({ ok: 0, code: 27, codeName: 'IndexNotFound' });
    expect(run({ dropIndexes: 'c', index: '_id_' })).toMatchObject({ ok: 0, code: 72 });
    run({ dropIndexes: 'c', index: '*' });
    expect(mini.store.collection('db', 'c')?.indexes.map((i) => i.name)).toEqual(['_id_']);
    expect(run({ listIndexes: 'missing', cursor: {} })).toMatchObject({ ok: 0, code: 26 });

    expect(run({ renameCollection: 'db.c', to: 'other.d' }, 'admin')).toEqual({ ok: 1 });
    expect(mini.docs('other', 'd')).toHaveLength(2);
    expect(run({ renameCollection: 'db.c', to: 'other.e' }, 'admin')).toMatchObject({ ok: 0, code: 26 });
    expect(run({ listDatabases: 1, nameOnly: true }, 'admin').databases).toEqual([{ name: 'db' }, { name: 'other' }]);
    expect(run({ drop: 'd' }, 'other')).toMatchObject({ ok: 1 });
    expect(run({ drop: 'd' }, 'other')).toMatchObject({ ok: 0, code: 26 });
    run({ dropDatabase: 1 });
    expect(mini.exists('db', 'v')).toBe(false);
    expect(run({ buildInfo: 1 }, 'admin')).toMatchObject({ version: '8.0.0', ok: 1 });
  });
});

test('over the wire with a driver, the server started and closed by the tool', async () => {
  const started = await MiniMongod.start();
  const client = new MongoClient(started.uri);
  try {
    const coll = client.db('w').collection<{ _id?: number; n: number }>('c');
    await coll.insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, n: i % 7 })));
    expect(await coll.countDocuments({ n: 3 })).toBe(36);
    expect(await coll.find({ n: { $gte: 5 } }, { projection: { _id: 1 } }).toArray()).toHaveLength(70);
    await expect(coll.insertOne({ _id: 1, n: 0 })).rejects.toMatchObject({ code: 11000 });
    expect(await coll.findOneAndUpdate({ _id: 3 }, { $inc: { n: 1 } }, { returnDocument: 'after' })).toEqual({ _id: 3, n: 4 });
    expect(started.openCursorCount).toBe(0);
  } finally {
    await client.close();
    await started.close();
  }
});
