/** Normalisation rule 13 (spec-tests/unified/command_normalizer.ts): endSessions ids and the official driver's w:0. */
import { Binary } from 'bson';
import { diffCommandSequences, normalizeCommands } from '../../spec-tests/unified/command_normalizer';

const lsid = (byte: number) => ({ id: new Binary(Buffer.alloc(16, byte), 4) });
const command = (body: Record<string, unknown>) => ({ client: 'client', databaseName: 'admin', commandName: Object.keys(body)[0], command: body });

describe('endSessions normalisation', () => {
  test('session ids become the lsid tokens of the commands that used them', () => {
    const [find, end] = normalizeCommands([command({ find: 'c', lsid: lsid(9) }), command({ endSessions: [lsid(9), lsid(4)] })]);
    expect(JSON.parse(find.command).lsid).toBe('<lsid#1>');
    expect(JSON.parse(end.command).endSessions).toEqual(['<lsid#1>', '<lsid#2>']);
  });

  test('an unacknowledged endSessions (official driver) equals the specified form; other write concerns still differ', () => {
    const reference = normalizeCommands([command({ endSessions: [lsid(1)], writeConcern: { w: 0 } })]);
    const candidate = normalizeCommands([command({ endSessions: [lsid(2)] })]);
    expect(diffCommandSequences(reference, candidate, ['mongodb', 'mongowire'])).toBeUndefined();
    const majority = normalizeCommands([command({ endSessions: [lsid(1)], writeConcern: { w: 'majority' } })]);
    expect(diffCommandSequences(majority, candidate, ['mongodb', 'mongowire'])).toMatch(/commands differ/);
  });
});
