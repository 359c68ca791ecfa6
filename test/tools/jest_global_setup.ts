/**
 * Jest global setup: find a real MongoDB deployment once for the integration tests
 * (test/integration/). MONGODB_URI wins; else mongodb-memory-server starts a replica set. The
 * outcome reaches the test workers through the environment: MONGOWIRE_TEST_URI when there is a
 * deployment, MONGOWIRE_NO_SERVER_REASON (printed once, here) when there is none.
 */
import { getMongoDeployment, stopMongoDeployments } from './mongod';

export default async function globalSetup(): Promise<void> {
  const deployment = await getMongoDeployment('replicaset');
  if (deployment.available) {
    process.env.MONGOWIRE_TEST_URI = deployment.uri;
    (globalThis as { __mongowireStop?: () => Promise<void> }).__mongowireStop = stopMongoDeployments;
    process.stdout.write(`\nintegration tests: using a MongoDB deployment from ${deployment.source}\n`);
  } else {
    process.env.MONGOWIRE_NO_SERVER_REASON = deployment.reason;
    process.stdout.write(`\nintegration tests skipped: ${deployment.reason}\n`);
  }
}
