/**
 * Atlas Search index helpers (index-management.md "Search Indexes"): createSearchIndex(es),
 * updateSearchIndex, dropSearchIndex and listSearchIndexes (`aggregate [{$listSearchIndexes}]`
 * with aggregation options). No read or write concern is ever sent; dropSearchIndex ignores
 * NamespaceNotFound; other server errors surface.
 */
import { Long, type Document } from 'bson';
import { MongoServerError } from '../../src/errors';
import { MongoClient } from '../../src/mongo_client';
import { errorReply, MockServer, type RecordedCommand } from '../tools/mock_server';

let server: MockServer;
let client: MongoClient;

beforeEach(async () => {
  server = await MockServer.start({ type: 'standalone' });
  // Concerns set on the client must not reach the search index commands.
  client = new MongoClient(`mongodb://${server.address}/?directConnection=true&readConcernLevel=majority&w=majority`);
  await client.connect();
});

afterEach(async () => {
  await client.close();
  await server.close();
});

const coll = () => client.db('db').collection('coll');
const sent = (): RecordedCommand[] => server.nonHelloCommands().filter((c) => c.commandName !== 'endSessions');

function expectNoConcerns(command: RecordedCommand): void {
  expect(command.body).not.toHaveProperty('readConcern');
  expect(command.body).not.toHaveProperty('writeConcern');
  expect(command.body.lsid).toBeDefined();
}

it('createSearchIndex / createSearchIndexes send createSearchIndexes and return the created names', async () => {
  server.setHandler('createSearchIndexes', (request) => ({
    indexesCreated: (request.body.indexes as Document[]).map((index, i) => ({ id: `id${i}`, name: index.name ?? 'default' })),
    ok: 1
  }));
  expect(await coll().createSearchIndex({ definition: { mappings: { dynamic: true } } })).toBe('default');
  expect(
    await coll().createSearchIndexes([
      { name: 's', definition: { mappings: { dynamic: false } } },
      { name: 'v', type: 'vectorSearch', definition: { fields: [{ type: 'vector', path: 'p', numDimensions: 2, similarity: 'euclidean' }] } }
    ])
  ).toEqual(['s', 'v']);
  const [one, two] = sent();
  expect(one.body).toMatchObject({ createSearchIndexes: 'coll', indexes: [{ definition: { mappings: { dynamic: true } } }], $db: 'db' });
  expect(two.body.indexes).toEqual([
    { name: 's', definition: { mappings: { dynamic: false } } },
    { name: 'v', type: 'vectorSearch', definition: { fields: [{ type: 'vector', path: 'p', numDimensions: 2, similarity: 'euclidean' }] } }
  ]);
  expectNoConcerns(one);
  expectNoConcerns(two);
});

it('updateSearchIndex and dropSearchIndex', async () => {
  server.setHandler('updateSearchIndex', { ok: 1 });
  server.setHandler('dropSearchIndex', { ok: 1 });
  await expect(coll().updateSearchIndex('s', { mappings: { dynamic: true } })).resolves.toBeUndefined();
  await expect(coll().dropSearchIndex('s')).resolves.toBeUndefined();
  const [update, drop] = sent();
  expect(update.body).toMatchObject({ updateSearchIndex: 'coll', name: 's', definition: { mappings: { dynamic: true } } });
  expect(drop.body).toMatchObject({ dropSearchIndex: 'coll', name: 's' });
  expectNoConcerns(update);
  expectNoConcerns(drop);
});

it('dropSearchIndex is idempotent (NamespaceNotFound ignored), other errors surface', async () => {
  server.setHandler('dropSearchIndex', errorReply(26, 'ns not found', { codeName: 'NamespaceNotFound' }));
  await expect(coll().dropSearchIndex('s')).resolves.toBeUndefined();
  server.setHandler('dropSearchIndex', errorReply(31082, 'requires Atlas', { codeName: 'SearchNotEnabled' }));
  await expect(coll().dropSearchIndex('s')).rejects.toBeInstanceOf(MongoServerError);
});

it('listSearchIndexes: all or by name, with aggregation options, without read concern', async () => {
  server.setHandler('aggregate', (request) => ({
    cursor: { id: Long.ZERO, ns: 'db.coll', firstBatch: [{ id: '1', name: (request.body.pipeline as Document[])[0].$listSearchIndexes.name ?? 'all' }] },
    ok: 1
  }));
  expect(await coll().listSearchIndexes().toArray()).toEqual([{ id: '1', name: 'all' }]);
  expect(await coll().listSearchIndexes('s', { batchSize: 10, comment: 'c' }).toArray()).toEqual([{ id: '1', name: 's' }]);
  expect(await coll().listSearchIndexes({ batchSize: 5 }).toArray()).toEqual([{ id: '1', name: 'all' }]);
  const [all, named, withOptions] = sent();
  expect(all.body).toMatchObject({ aggregate: 'coll', pipeline: [{ $listSearchIndexes: {} }], cursor: {} });
  expect(named.body).toMatchObject({ aggregate: 'coll', pipeline: [{ $listSearchIndexes: { name: 's' } }], cursor: { batchSize: 10 }, comment: 'c' });
  expect(withOptions.body).toMatchObject({ pipeline: [{ $listSearchIndexes: {} }], cursor: { batchSize: 5 } });
  for (const c of [all, named, withOptions]) expectNoConcerns(c);
});
