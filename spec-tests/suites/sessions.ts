/** The sessions spec's unified tests (see spec-tests/unified/suite_runner.ts for both modes). */
import { unifiedSuite } from '../unified/suite_runner';

export default unifiedSuite('sessions');
