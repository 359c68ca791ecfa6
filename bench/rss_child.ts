/**
 * Child process for the peak-RSS measurement (transpiled to .bench-tmp/rss_child.js and run
 * with plain `node`, no loader): `node rss_child.js <driverDir> <uri> <db> <collection>`.
 * Connects, iterates `find({})` to the end, and prints
 * `{ documents, baselineRss, peakRss }` (bytes; peak = the process's maxRSS).
 * Self-contained on purpose: no relative imports.
 */
interface ChildCursor extends AsyncIterable<unknown> {}
interface ChildClient {
  connect(): Promise<unknown>;
  close(): Promise<void>;
  db(name: string): { command(c: object): Promise<unknown>; collection(name: string): { find(filter: object): ChildCursor } };
}

async function main(): Promise<void> {
  const [dir, uri, dbName, collection] = process.argv.slice(2);
  const { MongoClient } = require(dir) as { MongoClient: new (uri: string) => ChildClient };
  const client = new MongoClient(uri);
  const db = client.db(dbName);
  await db.command({ ping: 1 });
  const baselineRss = process.memoryUsage().rss;
  let documents = 0;
  for await (const doc of db.collection(collection).find({})) if (doc) documents++;
  const peakRss = process.resourceUsage().maxRSS * 1024;
  await client.close();
  process.stdout.write(JSON.stringify({ documents, baselineRss, peakRss }));
}

main().catch((error: unknown) => {
  process.stderr.write(String((error as Error)?.stack ?? error));
  process.exit(1);
});
