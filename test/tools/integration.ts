/**
 * For test/integration/: `describeWithServer(name, fn)` runs `fn(uri)` when jest's global setup
 * found a real deployment, and otherwise registers the block as skipped (never as passed), with
 * the reason in its title so the report says why.
 */
export const TEST_URI = process.env.MONGOWIRE_TEST_URI;

export function describeWithServer(name: string, fn: (uri: string) => void): void {
  if (TEST_URI) {
    describe(name, () => fn(TEST_URI));
  } else {
    const reason = process.env.MONGOWIRE_NO_SERVER_REASON ?? 'no MongoDB deployment (set MONGODB_URI or MONGOMS_SYSTEM_BINARY)';
    describe.skip(`${name} [skipped: ${reason}]`, () => fn(''));
  }
}
