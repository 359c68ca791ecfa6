import { Binary, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import {
  alignKnownDeviations,
  diffCommandSequences,
  normalizeCommands,
  wireCanonical,
  type NormalizedCommand
} from '../../spec-tests/unified/command_normalizer';

const lsid = (byte: number) => ({ id: new Binary(Buffer.alloc(16, byte), 4) });
const event = (command: Record<string, unknown>, client = 'client0') => ({
  client,
  databaseName: 'db',
  commandName: Object.keys(command)[0],
  command
});
const parsed = (c: NormalizedCommand) => JSON.parse(c.command) as Record<string, unknown>;

describe('normalizeCommands', () => {
  test('compares wire types: a JS integer is an int32, a Double stays a double', () => {
    expect(wireCanonical({ x: 1 })).toEqual({ x: { $numberInt: '1' } });
    expect(wireCanonical({ x: new Int32(1) })).toEqual({ x: { $numberInt: '1' } });
    expect(wireCanonical({ x: new Double(1) })).toEqual({ x: { $numberDouble: '1.0' } });
    expect(wireCanonical({ x: Long.fromNumber(1) })).toEqual({ x: { $numberLong: '1' } });
    expect(wireCanonical({ x: undefined, y: 2 })).toEqual({ y: { $numberInt: '2' } });
  });

  test('lsids become per-session tokens by order of first appearance', () => {
    const out = normalizeCommands([
      event({ find: 'c', lsid: lsid(7) }),
      event({ find: 'c', lsid: lsid(3) }),
      event({ find: 'c', lsid: lsid(7) })
    ]);
    expect(out.map((c) => parsed(c).lsid)).toEqual(['<lsid#1>', '<lsid#2>', '<lsid#1>']);
  });

  test('txnNumbers become per-session tokens, so increments are compared but not values', () => {
    const a = normalizeCommands([
      event({ insert: 'c', lsid: lsid(1), txnNumber: Long.fromNumber(5) }),
      event({ insert: 'c', lsid: lsid(1), txnNumber: Long.fromNumber(5) }),
      event({ insert: 'c', lsid: lsid(1), txnNumber: Long.fromNumber(6) }),
      event({ insert: 'c', lsid: lsid(2), txnNumber: Long.fromNumber(6) })
    ]);
    expect(a.map((c) => parsed(c).txnNumber)).toEqual(['<txn#1>', '<txn#1>', '<txn#2>', '<txn#1>']);
  });

  test('$clusterTime values, generated ObjectIds, $db and key order are normalised; the command name stays first', () => {
    const [a] = normalizeCommands([
      event({
        insert: 'c',
        $db: 'db',
        ordered: true,
        documents: [{ _id: new ObjectId(), b: 1, a: 2 }],
        $clusterTime: { clusterTime: new Timestamp({ t: 1, i: 1 }) }
      })
    ]);
    const [b] = normalizeCommands([
      event({
        insert: 'c',
        $clusterTime: { clusterTime: new Timestamp({ t: 9, i: 9 }) },
        documents: [{ a: 2, _id: new ObjectId(), b: 1 }],
        ordered: true
      })
    ]);
    expect(a.command).toBe(b.command);
    expect(Object.keys(parsed(a))[0]).toBe('insert');
    expect(parsed(a)).not.toHaveProperty('$db');
    expect(parsed(a).$clusterTime).toBe('<clusterTime>');
  });

  test('bypassDocumentValidation: false and find limit/skip 0 equal their absence; true and non-zero do not', () => {
    const [withFalse, without, withTrue] = normalizeCommands([
      event({ insert: 'c', bypassDocumentValidation: false }),
      event({ insert: 'c' }),
      event({ insert: 'c', bypassDocumentValidation: true })
    ]);
    expect(withFalse.command).toBe(without.command);
    expect(withTrue.command).not.toBe(without.command);
    const [zero, none, one] = normalizeCommands([event({ find: 'c', limit: 0, skip: 0 }), event({ find: 'c' }), event({ find: 'c', limit: 1 })]);
    expect(zero.command).toBe(none.command);
    expect(one.command).not.toBe(none.command);
  });

  test('dates generated now become <now>, dates from test files stay', () => {
    const [doc] = normalizeCommands([event({ insert: 'fs.files', documents: [{ uploadDate: new Date(), fixed: new Date(0) }] })]);
    const inserted = (parsed(doc).documents as Array<Record<string, unknown>>)[0];
    expect(inserted.uploadDate).toBe('<now>');
    expect(inserted.fixed).toEqual({ $date: { $numberLong: '0' } });
  });

  test('maxTimeMS values are tokens only under CSOT', () => {
    expect(parsed(normalizeCommands([event({ find: 'c', maxTimeMS: 123 })], { csot: true })[0]).maxTimeMS).toBe('<maxTimeMS>');
    expect(parsed(normalizeCommands([event({ find: 'c', maxTimeMS: 123 })])[0]).maxTimeMS).toEqual({ $numberInt: '123' });
  });
});

describe('known deviations and diffs', () => {
  const seq = (...commands: Array<Record<string, unknown>>) => normalizeCommands(commands.map((c) => event(c)));

  test('mongowire may send $clusterTime where the reference did not, not the reverse', () => {
    const withTime = { find: 'c', $clusterTime: { clusterTime: new Timestamp({ t: 1, i: 1 }) } };
    expect(diffCommandSequences(seq({ find: 'c' }), seq(withTime), ['mongodb', 'mongowire'])).toBeUndefined();
    expect(diffCommandSequences(seq(withTime), seq({ find: 'c' }), ['mongodb', 'mongowire'])).toMatch(/differ at #1/);
  });

  test("the reference's wtimeout 10000 is ignored on a first commit and on aborts, not on a commit retry", () => {
    const commit = (wc: Record<string, unknown>) => ({ commitTransaction: 1, lsid: lsid(1), txnNumber: Long.fromNumber(1), writeConcern: wc });
    const majority = { w: 'majority' };
    const withTimeout = { w: 'majority', wtimeout: 10000 };
    const [ref, cand] = alignKnownDeviations(seq(commit(withTimeout), commit(withTimeout)), seq(commit(majority), commit(majority)));
    expect(parsed(ref[0]).writeConcern).toEqual({ w: 'majority' });
    expect(parsed(ref[1]).writeConcern).toEqual({ w: 'majority', wtimeout: { $numberInt: '10000' } });
    expect(diffCommandSequences(seq(commit(withTimeout), commit(withTimeout)), seq(commit(majority), commit(withTimeout)), ['a', 'b'])).toBeUndefined();
    expect(diffCommandSequences(seq(commit(withTimeout), commit(withTimeout)), seq(commit(majority), commit(majority)), ['a', 'b'])).toMatch(/differ at #2/);
    expect(cand).toHaveLength(2);
  });

  test('a diff names the first differing command and both sides', () => {
    const diff = diffCommandSequences(seq({ find: 'a' }, { find: 'b' }), seq({ find: 'a' }), ['mongodb', 'mongowire']);
    expect(diff).toMatch(/commands differ at #2 \(mongodb sent 2, mongowire sent 1\)/);
    expect(diff).toMatch(/\(no more commands\)/);
  });
});
