import { Binary, Code, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'bson';
import { matchIterableResult, matchResult, type EntityLookup } from '../../spec-tests/unified/matcher';

/** Expected values are parsed the way the runner parses test files. */
const ej = (text: string): unknown => EJSON.parse(text, { relaxed: false });

function entities(map: Record<string, unknown>): EntityLookup {
  return { get: (id) => map[id] };
}

describe('documents: root vs nested', () => {
  it('allows extra keys at the root (Allowing Extra Fields in Root-level Documents)', () => {
    expect(matchResult(ej('{"x": 1}'), { x: 1, y: 1 }).ok).toBe(true);
  });

  it('requires every expected key', () => {
    const r = matchResult(ej('{"x": 1, "y": 1}'), { x: 1 });
    expect(r).toMatchObject({ ok: false, path: '$.y' });
  });

  it('rejects extra keys in nested documents', () => {
    const r = matchResult(ej('{"x": {"y": 1}}'), { x: { y: 1, z: 1 } });
    expect(r.ok).toBe(false);
    expect(r.path).toBe('$.x');
    expect(r.message).toMatch(/extra key.*z/);
  });

  it('rejects extra keys when isRoot is false', () => {
    expect(matchResult(ej('{"x": 1}'), { x: 1, y: 1 }, { isRoot: false }).ok).toBe(false);
  });

  it('ignores key order', () => {
    expect(matchResult(ej('{"x": 1, "y": 1}'), { y: 1, x: 1 }).ok).toBe(true);
  });

  it('requires the actual value to be a document', () => {
    expect(matchResult(ej('{"x": 1}'), [1]).ok).toBe(false);
    expect(matchResult(ej('{"x": {"a": 1}}'), { x: 'a' }).ok).toBe(false);
  });

  it('treats a key mapped to undefined as absent', () => {
    expect(matchResult(ej('{"x": {"y": 1}}'), { x: { y: 1, z: undefined } }).ok).toBe(true);
    expect(matchResult(ej('{"x": null}'), { x: undefined }).ok).toBe(false);
  });
});

describe('arrays', () => {
  it('must have the same number of elements', () => {
    expect(matchResult(ej('[1, 2, 3]'), [1, 2, 3]).ok).toBe(true);
    expect(matchResult(ej('[1, 2, 3]'), [1, 2, 3, 4]).ok).toBe(false);
    expect(matchResult(ej('[1, 2, 3]'), [1, 2]).ok).toBe(false);
  });

  it('matches array elements as nested documents (a distinct result)', () => {
    const r = matchResult(ej('[{"x": 1}, {"x": 2}]'), [{ x: 1, y: 1 }, { x: 2, y: 2 }]);
    expect(r).toMatchObject({ ok: false, path: '$[0]' });
  });

  it('matches iterable results element-wise as root documents (a find result)', () => {
    expect(matchIterableResult(ej('[{"x": 1}, {"x": 2}]'), [{ x: 1, y: 1 }, { x: 2, y: 2 }]).ok).toBe(true);
    expect(matchIterableResult(ej('[{"x": 1}]'), [{ x: 1 }, { x: 2 }]).ok).toBe(false);
    expect(matchIterableResult(ej('[{"x": 1}]'), { x: 1 }).ok).toBe(false);
  });

  it('rejects a non-array actual', () => {
    expect(matchResult(ej('[1]'), 1).ok).toBe(false);
  });
});

describe('flexible numeric comparisons', () => {
  const same: Array<[string, unknown]> = [
    ['1', 1],
    ['1', new Double(1)],
    ['1', Long.fromNumber(1)],
    ['1', 1n],
    ['{"$numberLong": "1"}', new Int32(1)],
    ['{"$numberDouble": "1.0"}', 1],
    ['{"$numberLong": "9223372036854775807"}', 9223372036854775807n],
    ['2.5', new Double(2.5)]
  ];
  it.each(same)('%s matches %p', (expected, actual) => {
    expect(matchResult(ej(expected), actual).ok).toBe(true);
  });

  const different: Array<[string, unknown]> = [
    ['1', 1.5],
    ['1', '1'],
    ['1', true],
    ['{"$numberLong": "9223372036854775807"}', 9223372036854775806n],
    ['{"$numberDecimal": "1"}', 1],
    ['1', Decimal128.fromString('1')]
  ];
  it.each(different)('%s does not match %p', (expected, actual) => {
    expect(matchResult(ej(expected), actual).ok).toBe(false);
  });

  it('compares Decimal128 with Decimal128 by value', () => {
    expect(matchResult(ej('{"$numberDecimal": "1.5"}'), Decimal128.fromString('1.5')).ok).toBe(true);
  });
});

describe('other scalars', () => {
  it('compares strings, booleans and null by type and value', () => {
    expect(matchResult('a', 'a').ok).toBe(true);
    expect(matchResult('a', 'b').ok).toBe(false);
    expect(matchResult(true, true).ok).toBe(true);
    expect(matchResult(true, 1).ok).toBe(false);
    expect(matchResult(null, null).ok).toBe(true);
    expect(matchResult(null, undefined).ok).toBe(false);
  });

  it('compares BSON values', () => {
    const oid = new ObjectId();
    expect(matchResult(new ObjectId(oid.toHexString()), oid).ok).toBe(true);
    expect(matchResult(new ObjectId(), oid).ok).toBe(false);
    expect(matchResult(ej('{"$date": {"$numberLong": "1000"}}'), new Date(1000)).ok).toBe(true);
    expect(matchResult(ej('{"$date": {"$numberLong": "1000"}}'), 1000).ok).toBe(false);
    expect(matchResult(ej('{"$binary": {"base64": "AQI=", "subType": "00"}}'), new Binary(Buffer.from([1, 2]))).ok).toBe(true);
    expect(matchResult(ej('{"$binary": {"base64": "AQI=", "subType": "00"}}'), Buffer.from([1, 2])).ok).toBe(true);
    expect(matchResult(ej('{"$binary": {"base64": "AQI=", "subType": "05"}}'), new Binary(Buffer.from([1, 2]))).ok).toBe(false);
    expect(matchResult(ej('{"$timestamp": {"t": 1, "i": 2}}'), new Timestamp({ t: 1, i: 2 })).ok).toBe(true);
    expect(matchResult(ej('{"$timestamp": {"t": 1, "i": 2}}'), new Timestamp({ t: 1, i: 3 })).ok).toBe(false);
    expect(matchResult(ej('{"$regularExpression": {"pattern": "a", "options": "im"}}'), /a/im).ok).toBe(true);
    expect(matchResult(ej('{"$minKey": 1}'), new MinKey()).ok).toBe(true);
    expect(matchResult(ej('{"$minKey": 1}'), new MaxKey()).ok).toBe(false);
  });

  it('compares the scope of a CodeWScope exactly, in any key order', () => {
    const expected = new Code('f()', { a: 1, b: 2 });
    expect(matchResult(expected, new Code('f()', { b: 2, a: 1 })).ok).toBe(true);
    expect(matchResult(expected, new Code('f()', { a: 1, b: 2, c: 3 })).ok).toBe(false);
  });
});

describe('$$exists', () => {
  it('true requires the key, with any value including null', () => {
    expect(matchResult(ej('{"x": {"$$exists": true}}'), { x: null }).ok).toBe(true);
    expect(matchResult(ej('{"x": {"$$exists": true}}'), {}).ok).toBe(false);
  });

  it('false requires the key to be absent', () => {
    expect(matchResult(ej('{"x": {"$$exists": false}}'), {}).ok).toBe(true);
    expect(matchResult(ej('{"x": {"$$exists": false}}'), { x: 1 }).ok).toBe(false);
  });

  it('works in nested documents without counting as an extra key', () => {
    expect(matchResult(ej('{"a": {"x": 1, "y": {"$$exists": false}}}'), { a: { x: 1 } }).ok).toBe(true);
    expect(matchResult(ej('{"a": {"x": {"$$exists": true}}}'), { a: { x: 5 } }).ok).toBe(true);
  });
});

describe('$$type', () => {
  it('checks a single type', () => {
    expect(matchResult(ej('{"x": {"$$type": "string"}}'), { x: 'a' }).ok).toBe(true);
    expect(matchResult(ej('{"x": {"$$type": "string"}}'), { x: 1 }).ok).toBe(false);
  });

  it('accepts any of an array of types', () => {
    const expected = ej('{"getMore": {"$$type": ["int", "long"]}}');
    expect(matchResult(expected, { getMore: Long.fromNumber(5) }).ok).toBe(true);
    expect(matchResult(expected, { getMore: new Int32(5) }).ok).toBe(true);
    expect(matchResult(expected, { getMore: new Double(5) }).ok).toBe(false);
    expect(matchResult(expected, { getMore: 'x' }).ok).toBe(false);
  });

  it('tells wrapped int, long and double apart', () => {
    expect(matchResult({ $$type: 'int' }, new Int32(1)).ok).toBe(true);
    expect(matchResult({ $$type: 'int' }, Long.fromNumber(1)).ok).toBe(false);
    expect(matchResult({ $$type: 'long' }, 1n).ok).toBe(true);
    expect(matchResult({ $$type: 'double' }, new Double(1)).ok).toBe(true);
    expect(matchResult({ $$type: 'double' }, new Int32(1)).ok).toBe(false);
  });

  it('lets a plain JS number satisfy double, and int/long when integral', () => {
    expect(matchResult({ $$type: 'double' }, 1).ok).toBe(true);
    expect(matchResult({ $$type: 'int' }, 1).ok).toBe(true);
    expect(matchResult({ $$type: 'long' }, 2 ** 40).ok).toBe(true);
    expect(matchResult({ $$type: 'int' }, 2 ** 40).ok).toBe(false);
    expect(matchResult({ $$type: 'int' }, 1.5).ok).toBe(false);
  });

  it('supports the number alias (int, long, double, decimal)', () => {
    for (const v of [new Int32(1), Long.fromNumber(1), new Double(2.5), Decimal128.fromString('3.14'), 7]) {
      expect(matchResult({ $$type: 'number' }, v).ok).toBe(true);
    }
    expect(matchResult({ $$type: 'number' }, '1').ok).toBe(false);
  });

  it('names the other BSON types', () => {
    const cases: Array<[string, unknown]> = [
      ['object', { a: 1 }],
      ['array', [1]],
      ['binData', new Binary(Buffer.from([1]))],
      ['objectId', new ObjectId()],
      ['bool', false],
      ['date', new Date()],
      ['null', null],
      ['regex', /a/],
      ['javascript', new Code('f()')],
      ['javascriptWithScope', new Code('f()', { a: 1 })],
      ['timestamp', new Timestamp({ t: 1, i: 1 })],
      ['decimal', Decimal128.fromString('1')],
      ['minKey', new MinKey()],
      ['maxKey', new MaxKey()]
    ];
    for (const [type, value] of cases) expect(matchResult({ $$type: type }, value)).toMatchObject({ ok: true });
  });

  it('checks only the type of an array, not of its elements', () => {
    expect(matchResult({ $$type: 'array' }, ['a', 1]).ok).toBe(true);
    expect(matchResult({ $$type: 'string' }, ['a']).ok).toBe(false);
  });

  it('requires the value to exist', () => {
    expect(matchResult(ej('{"x": {"$$type": "null"}}'), {}).ok).toBe(false);
  });

  it('rejects unknown type names', () => {
    expect(matchResult({ $$type: 'integer' }, 1).ok).toBe(false);
  });
});

describe('$$unsetOrMatches', () => {
  it('accepts a missing key', () => {
    expect(matchResult(ej('{"insertedId": {"$$unsetOrMatches": 2}}'), {}).ok).toBe(true);
  });

  it('matches a present key', () => {
    expect(matchResult(ej('{"insertedId": {"$$unsetOrMatches": 2}}'), { insertedId: 2 }).ok).toBe(true);
    expect(matchResult(ej('{"insertedId": {"$$unsetOrMatches": 2}}'), { insertedId: 3 }).ok).toBe(false);
  });

  it('may contain special operators', () => {
    expect(matchResult(ej('{"x": {"$$unsetOrMatches": {"$$type": "int"}}}'), { x: new Int32(1) }).ok).toBe(true);
    expect(matchResult(ej('{"x": {"$$unsetOrMatches": {"$$type": "int"}}}'), { x: 'a' }).ok).toBe(false);
  });

  it('applies to an entire result and keeps it a root document', () => {
    const expected = ej('{"$$unsetOrMatches": {"insertedCount": 2}}');
    expect(matchResult(expected, undefined).ok).toBe(true);
    expect(matchResult(expected, { insertedCount: 2, deletedCount: 0 }).ok).toBe(true);
    expect(matchResult(expected, { insertedCount: 1 }).ok).toBe(false);
  });

  it('does not make a nested value root', () => {
    expect(matchResult(ej('{"a": {"$$unsetOrMatches": {"x": 1}}}'), { a: { x: 1, y: 2 } }).ok).toBe(false);
  });
});

describe('$$matchesEntity', () => {
  const oid = new ObjectId();
  it('matches the entity value', () => {
    const e = entities({ objectid0: oid });
    expect(matchResult(ej('{"_id": {"$$matchesEntity": "objectid0"}}'), { _id: new ObjectId(oid.toHexString()) }, { entities: e }).ok).toBe(true);
    expect(matchResult(ej('{"_id": {"$$matchesEntity": "objectid0"}}'), { _id: new ObjectId() }, { entities: e }).ok).toBe(false);
  });

  it('fails for an undefined entity', () => {
    const r = matchResult(ej('{"_id": {"$$matchesEntity": "nope"}}'), { _id: 1 }, { entities: entities({}) });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/"nope" is not defined/);
  });

  it('fails when the entity map throws', () => {
    const throwing: EntityLookup = {
      get: (id) => {
        throw new Error(`no entity ${id}`);
      }
    };
    expect(matchResult({ $$matchesEntity: 'x' }, 1, { entities: throwing }).message).toMatch(/no entity x/);
  });
});

describe('$$sessionLsid', () => {
  const lsid = { id: new Binary(Buffer.alloc(16, 7), 4) };
  const session = { id: lsid };
  it('matches the logical session id of a session entity', () => {
    const e = entities({ session0: session });
    const command = { ping: 1, lsid: { id: new Binary(Buffer.alloc(16, 7), 4) } };
    expect(matchResult(ej('{"ping": 1, "lsid": {"$$sessionLsid": "session0"}}'), command, { entities: e }).ok).toBe(true);
  });

  it('rejects another session id', () => {
    const e = entities({ session0: session });
    const command = { ping: 1, lsid: { id: new Binary(Buffer.alloc(16, 8), 4) } };
    expect(matchResult(ej('{"lsid": {"$$sessionLsid": "session0"}}'), command, { entities: e }).ok).toBe(false);
  });

  it('fails for an undefined or non-session entity', () => {
    expect(matchResult({ $$sessionLsid: 'session1' }, lsid, { entities: entities({}) }).ok).toBe(false);
    expect(matchResult({ $$sessionLsid: 'client0' }, lsid, { entities: entities({ client0: 42 }) }).ok).toBe(false);
  });
});

describe('$$matchesHexBytes', () => {
  it('matches bytes, case-insensitively', () => {
    expect(matchResult({ $$matchesHexBytes: '12AB' }, Buffer.from([0x12, 0xab])).ok).toBe(true);
    expect(matchResult({ $$matchesHexBytes: '12ab' }, new Binary(Buffer.from([0x12, 0xab]))).ok).toBe(true);
    expect(matchResult({ $$matchesHexBytes: '' }, Buffer.alloc(0)).ok).toBe(true);
    expect(matchResult({ $$matchesHexBytes: '12AC' }, Buffer.from([0x12, 0xab])).ok).toBe(false);
  });

  it('fails on a malformed hex string', () => {
    expect(matchResult({ $$matchesHexBytes: '123' }, Buffer.from([0x12])).message).toMatch(/malformed/);
    expect(matchResult({ $$matchesHexBytes: 'zz' }, Buffer.from([0x12])).message).toMatch(/malformed/);
  });
});

describe('$$lte', () => {
  // From operator-lte.json: x: 2 matches {$$lte: 2.1}, y: 3 matches {$$lte: {$numberLong: "3"}}.
  it('accepts values less than or equal, with numeric leniency', () => {
    const expected = ej('{"_id": {"$$lte": 2}, "x": {"$$lte": 2.1}, "y": {"$$lte": {"$numberLong": "3"}}, "z": {"$$lte": 4}}');
    expect(matchResult(expected, { _id: new Int32(1), x: new Int32(2), y: new Int32(3), z: new Int32(4) }).ok).toBe(true);
    expect(matchResult({ $$lte: new Int32(1) }, new Double(1)).ok).toBe(true);
    expect(matchResult({ $$lte: new Int32(1) }, new Double(0)).ok).toBe(true);
  });

  it('rejects greater values and non-numbers', () => {
    expect(matchResult({ $$lte: new Int32(1) }, new Double(1.1)).ok).toBe(false);
    expect(matchResult({ $$lte: Long.fromNumber(3) }, 4n).ok).toBe(false);
    expect(matchResult({ $$lte: new Int32(1) }, '0').ok).toBe(false);
  });
});

describe('$$matchAsDocument and $$matchAsRoot', () => {
  it('parses Extended JSON and matches it as a nested document', () => {
    expect(matchResult({ $$matchAsDocument: { x: new Int32(1), y: new Int32(2) } }, '{ "x": 1, "y": 2.0 }').ok).toBe(true);
    expect(matchResult({ $$matchAsDocument: { x: { $$type: 'objectId' } } }, '{ "x": { "$oid": "57e193d7a9cc81b4027498b5" } }').ok).toBe(true);
    expect(matchResult({ $$matchAsDocument: { x: new Int32(1) } }, '{ "x": 1, "y": 2 }').ok).toBe(false);
  });

  it('fails on scalars, arrays, invalid JSON and non-strings', () => {
    expect(matchResult({ $$matchAsDocument: {} }, '1').message).toMatch(/not a JSON object/);
    expect(matchResult({ $$matchAsDocument: {} }, '["foo"]').message).toMatch(/not a JSON object/);
    expect(matchResult({ $$matchAsDocument: {} }, '{ "x" }').message).toMatch(/cannot parse/);
    expect(matchResult({ $$matchAsDocument: {} }, { x: 1 }).ok).toBe(false);
  });

  it('$$matchAsRoot allows extra keys in a nested document', () => {
    expect(matchResult(ej('{"x": {"$$matchAsRoot": {"y": 2}}}'), { x: { y: 2, z: 3 } }).ok).toBe(true);
    expect(matchResult(ej('{"x": {"$$matchAsRoot": {"y": 3}}}'), { x: { y: 2, z: 3 } }).ok).toBe(false);
    expect(matchResult(ej('{"x": {"$$matchAsRoot": {"y": 2}}}'), { x: 2 }).ok).toBe(false);
  });

  it('combines: matchAsDocument with matchAsRoot', () => {
    expect(matchResult({ $$matchAsDocument: { $$matchAsRoot: { x: new Int32(1) } } }, '{ "x": 1, "y": 2 }').ok).toBe(true);
  });
});

describe('unknown operators', () => {
  it('fail instead of being compared as documents', () => {
    expect(matchResult({ $$bogus: 1 }, { $$bogus: 1 }).message).toMatch(/unknown special operator/);
  });

  it('a document with several keys is not an operator', () => {
    const doc: Document = { $$exists: true, a: 1 };
    expect(matchResult(doc, { $$exists: true, a: 1 }).ok).toBe(true);
  });
});
