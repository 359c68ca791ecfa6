/**
 * The allow-list of explained differential differences (spec-tests/known_differences.json): its
 * validation, the masking of the fields an entry is about, and how a listed test is judged
 * (skipped only when the masked commands agree; failed when they still differ or agree unmasked).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSpecRoot, SkipCase } from '../../spec-tests/framework';
import { maskFields } from '../../spec-tests/unified/differential';
import { knownDifferencesOf, loadKnownDifferences, parseKnownDifferences, type KnownDifference } from '../../spec-tests/unified/known_differences';
import { compareCase, type LoadedCase } from '../../spec-tests/unified/suite_runner';
import { loadUnifiedTestFile } from '../../spec-tests/unified/test-file';

const SOURCE = path.join(defaultSpecRoot(), 'source');

function loadCase(suite: string, file: string, description: string): LoadedCase {
  const loaded = loadUnifiedTestFile(path.join(SOURCE, suite, 'tests', file)).file;
  const test = loaded.tests.find((t) => t.description === description);
  if (!test) throw new Error(`no test ${description} in ${suite}/${file}`);
  return { name: `${file}: ${description}`, file: loaded, test };
}

const entry = (overrides: Partial<KnownDifference> = {}): KnownDifference => ({
  suite: 'change-streams',
  file: 'unified/change-streams-resume-allowlist.json',
  test: 'change stream resumes after a network error',
  reason: 'session reuse',
  spec: ['change-streams/change-streams.md: "the resume attempt MUST use the same session"'],
  ignoreFields: ['lsid'],
  ...overrides
});

describe('spec-tests/known_differences.json', () => {
  test('parses, and every entry names an existing test and cites a specification file that exists', () => {
    const list = loadKnownDifferences();
    expect(list.length).toBeGreaterThan(0);
    for (const e of list) {
      const tests = loadUnifiedTestFile(path.join(SOURCE, e.suite, 'tests', e.file)).file.tests.map((t) => t.description);
      expect(tests).toContain(e.test);
      for (const citation of e.spec) {
        const specFile = citation.split(/[,:]/)[0];
        expect(fs.existsSync(path.join(SOURCE, specFile))).toBe(true);
      }
    }
  });

  test('quoted specification text is found verbatim in the cited file', () => {
    for (const e of loadKnownDifferences()) {
      for (const citation of e.spec) {
        const specFile = citation.split(/[,:]/)[0];
        const quote = /"(.*)"$/.exec(citation)?.[1];
        expect(quote).toBeDefined();
        const text = fs.readFileSync(path.join(SOURCE, specFile), 'utf8').replace(/\s+/g, ' ');
        expect(text).toContain((quote as string).replace(/\s+/g, ' '));
      }
    }
  });

  test('rejects entries without a reason, a citation or ignoreFields, and duplicates', () => {
    expect(() => parseKnownDifferences({})).toThrow(/array/);
    expect(() => parseKnownDifferences([entry({ reason: '' })])).toThrow(/"reason"/);
    expect(() => parseKnownDifferences([entry({ spec: [] })])).toThrow(/"spec"/);
    expect(() => parseKnownDifferences([entry({ ignoreFields: [] })])).toThrow(/"ignoreFields"/);
    expect(() => parseKnownDifferences([entry(), entry()])).toThrow(/duplicate/);
    expect(parseKnownDifferences([entry()])).toHaveLength(1);
  });

  test('knownDifferencesOf keys entries as the suite runner names cases', () => {
    const map = knownDifferencesOf('change-streams', [entry(), entry({ suite: 'crud' })]);
    expect([...map.keys()]).toEqual(['unified/change-streams-resume-allowlist.json: change stream resumes after a network error']);
  });
});

describe('maskFields', () => {
  test('masks the values of top-level fields only, keeping their presence', () => {
    const commands = [{ client: 'c', databaseName: 'db', commandName: 'find', command: JSON.stringify({ find: 'x', lsid: '<lsid#2>', filter: { lsid: 1 } }) }];
    expect(JSON.parse(maskFields(commands, ['lsid'])[0].command)).toEqual({ find: 'x', lsid: '<ignored>', filter: { lsid: 1 } });
    expect(JSON.parse(maskFields(commands, ['comment'])[0].command)).toEqual({ find: 'x', lsid: '<lsid#2>', filter: { lsid: 1 } });
  });
});

describe('compareCase with a known difference', () => {
  jest.setTimeout(60_000);
  const resume = loadCase('change-streams', 'unified/change-streams-resume-allowlist.json', 'change stream resumes after a network error');

  test('the explained difference (only lsid differs) is a skip with the reason', async () => {
    const outcome = compareCase(resume, {}, entry({ reason: 'session reuse on resume' }));
    await expect(outcome).rejects.toBeInstanceOf(SkipCase);
    await expect(outcome).rejects.toMatchObject({ reason: 'known difference: session reuse on resume' });
  });

  test('a difference the entry does not explain (other fields) fails with the diff', async () => {
    await expect(compareCase(resume, {}, entry({ ignoreFields: ['comment'] }))).rejects.toThrow(/commands differ at #/);
  });

  test('an entry for a test whose drivers agree fails as stale', async () => {
    const find = loadCase('crud', 'unified/find.json', 'Find with filter');
    await expect(compareCase(find, {}, entry())).rejects.toThrow(/but the drivers agree: remove the entry/);
    await expect(compareCase(find, {}, undefined)).resolves.toBeUndefined();
  });
});
