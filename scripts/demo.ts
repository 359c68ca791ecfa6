/**
 * `npm run demo`: Motor's tutorial flow against MONGODB_URI, or else an embedded mongod started
 * with mongodb-memory-server. When neither can be had it prints one clear line saying how to
 * provide one, and exits with status 1.
 */
import { runTutorial } from '../examples/tutorial';

async function embeddedServer(): Promise<{ uri: string; stop: () => Promise<void> } | string> {
  // mongodb-memory-server logs its own multi-line dump on failure: keep the output to our one line.
  const { warn, error: logError } = console;
  console.warn = () => undefined;
  console.error = () => undefined;
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create();
    return { uri: server.getUri(), stop: async () => void (await server.stop()) };
  } catch (error) {
    return (error as Error).message.replace(/\s+/g, ' ').trim();
  } finally {
    console.warn = warn;
    console.error = logError;
  }
}

async function main(): Promise<number> {
  let uri = process.env.MONGODB_URI;
  let stop: (() => Promise<void>) | undefined;
  if (!uri) {
    const embedded = await embeddedServer();
    if (typeof embedded === 'string') {
      console.error(
        `demo: no MongoDB available: MONGODB_URI is not set and mongodb-memory-server could not start a mongod (${embedded}). ` +
          'Set MONGODB_URI=mongodb://host:port, or MONGOMS_SYSTEM_BINARY=/path/to/mongod, and run `npm run demo` again.'
      );
      return 1;
    }
    uri = embedded.uri;
    stop = embedded.stop;
    console.log(`demo: started an embedded mongod at ${uri}`);
  }
  try {
    await runTutorial(uri);
    return 0;
  } finally {
    await stop?.();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`demo failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  }
);
