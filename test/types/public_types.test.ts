/**
 * Compile-time checks of the public generics (this file is type-checked by `npm run typecheck`;
 * each `@ts-expect-error` line must fail to compile). The runtime test only keeps jest happy.
 */
import type { Document, ObjectId } from 'bson';
import type { Collection, Filter, InferIdType, UpdateFilter, WithId } from '../../src';

interface Item {
  i: number;
  name: string;
  tags: string[];
}
interface Keyed {
  _id: string;
  n: number;
}
/** A recursive schema: must not hit TypeScript's instantiation depth limit. */
interface TreeNode {
  label: string;
  children: TreeNode[];
  parent?: TreeNode;
}

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T => true as T;

assertType<Equals<InferIdType<Item>, ObjectId>>();
assertType<Equals<InferIdType<Keyed>, string>>();
assertType<Equals<WithId<Keyed>['_id'], string>>();

// Typed fields are checked.
const ok: Filter<Item> = { i: { $gt: 3 }, name: /x/, tags: 'a', 'nested.path': 1, $or: [{ i: 1 }, { name: 'b' }] };
// @ts-expect-error i is a number
const badField: Filter<Item> = { i: 'three' };
// @ts-expect-error $gt on a number takes a number
const badOperator: Filter<Item> = { i: { $gt: 'x' } };

// Untyped collections accept any field and condition, including _id comparisons.
const loose: Filter<Document> = { _id: { $gt: 4 }, anything: { $in: [1, 'a'] } };

// Updates.
const update: UpdateFilter<Item> = { $set: { name: 'n' }, $inc: { i: 1 }, $push: { tags: 'x' } };
// @ts-expect-error $inc only on numeric fields
const badInc: UpdateFilter<Item> = { $inc: { name: 1 } };

// Recursive schemas stay within the depth limit.
const tree: Filter<TreeNode> = { label: 'root', 'children.label': 'leaf' };
const treeUpdate: UpdateFilter<TreeNode> = { $set: { label: 'x' }, $push: { children: { label: 'c', children: [] } } };

// Collection methods carry the schema through.
async function typedUsage(items: Collection<Item>): Promise<void> {
  const doc = await items.findOne({ i: 1 });
  if (doc) {
    const id: ObjectId = doc._id;
    const n: number = doc.i;
    void id;
    void n;
  }
  // @ts-expect-error unknown field value type
  await items.insertOne({ i: 'not a number', name: 'x', tags: [] });
}

test('type checks compile', () => {
  expect([ok, badField, badOperator, loose, update, badInc, tree, treeUpdate, typedUsage].length).toBe(9);
});

// Untyped collections accept any _id type on insert, as the official driver does.
async function untypedInsert(coll: Collection): Promise<void> {
  await coll.insertOne({ _id: 1, a: 'x' });
  await coll.insertMany([{ _id: 'k' }, { n: 1 }]);
  await coll.replaceOne({ _id: 1 }, { b: 2 });
}
void untypedInsert;

// Bulk insert models take any _id on untyped collections too, and keep typed ones checked.
async function bulkModels(untyped: Collection, typed: Collection<Item>): Promise<void> {
  await untyped.bulkWrite([{ insertOne: { document: { _id: 4 } } }]);
  // @ts-expect-error i is a number
  await typed.bulkWrite([{ insertOne: { document: { i: 'x', name: 'n', tags: [] } } }]);
}
void bulkModels;
