/** The client-side-operations-timeout spec's unified tests (see spec-tests/unified/suite_runner.ts). */
import { unifiedSuite } from '../unified/suite_runner';

export default unifiedSuite('client-side-operations-timeout', {
  // See spec-tests/DIFFERENCES.md "CSOT": the official driver omits maxTimeMS where these tests
  // require it, and what is sent depends on elapsed time against blocked mock commands.
  differentialSkip:
    'CSOT is not compared in differential mode: the official driver omits the maxTimeMS these tests require, and the commands sent depend on timing (spec-tests/DIFFERENCES.md)'
});
