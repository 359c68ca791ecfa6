/**
 * uri-options spec tests: every file in tests/ (same format as the connection-string tests;
 * the runner is shared). Every option in the tests is implemented, so nothing is skipped.
 */
import type { SpecSuite } from '../framework';
import { runUriSuite } from './connection-string';

const suite: SpecSuite = {
  name: 'uri-options',
  run: (ctx) => runUriSuite(ctx.suiteDir)
};
export default suite;
