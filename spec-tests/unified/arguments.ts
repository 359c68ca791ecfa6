/**
 * Preparing an operation's `arguments` for a driver call: the session entity resolved, the
 * read/write concern and read preference turned into driver objects, number wrappers unwrapped
 * where the driver expects plain numbers (top-level options), documents left as they are (their
 * BSON types must reach the wire unchanged).
 */
import type { Document } from 'bson';
import { bsonTypeTag, isDocument, toNumeric } from './bson-values';
import type { DriverAdapter } from './driver_adapter';
import type { EntityMap, SessionEntity } from './entities';

/** Arguments that are BSON documents (or values) for the server, never unwrapped. */
const DOCUMENT_ARGUMENTS = new Set([
  'filter', 'document', 'documents', 'update', 'replacement', 'pipeline', 'command', 'let', 'collation', 'hint',
  'projection', 'comment', 'keys', 'key', 'requests', 'models', 'arrayFilters', 'min', 'max', 'validator',
  'indexOptionDefaults', 'storageEngine', 'changeStreamPreAndPostImages', 'clusteredIndex', 'timeseries',
  'encryptedFields', 'definition', 'model', 'metadata', 'resumeAfter', 'startAfter', 'startAtOperationTime', 'id',
  'sort', 'fieldName', 'to', 'newName', 'query'
]);

/** Plain JS number for an Int32/Double/Long wrapper; anything else unchanged. */
export function unwrapNumber(value: unknown): unknown {
  const tag = bsonTypeTag(value);
  if (tag === 'Int32' || tag === 'Double' || tag === 'Long') {
    const n = toNumeric(value);
    return n ? Number(n.value) : value;
  }
  return value;
}

/** Unwraps numbers recursively (for option documents such as `writeConcern`, `sort`). */
export function unwrapNumbersDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapNumbersDeep);
  if (isDocument(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapNumbersDeep(v)]));
  return unwrapNumber(value);
}

/**
 * A read preference document with its `mode` in the drivers' spelling: spec files write
 * `"Secondary"`, `"PrimaryPreferred"` (server-selection.md's mode names) as well as `"secondary"`;
 * the Node.js drivers take `secondary`, `primaryPreferred`.
 */
export function readPreferenceDocument(doc: Document): Document {
  const mode = doc.mode;
  return typeof mode === 'string' && mode.length > 0 ? { ...doc, mode: mode[0].toLowerCase() + mode.slice(1) } : doc;
}

export function convertConcerns(options: Document, adapter: DriverAdapter): Document {
  const out: Document = { ...options };
  if (isDocument(out.readPreference)) out.readPreference = adapter.readPreference(readPreferenceDocument(unwrapNumbersDeep(out.readPreference) as Document));
  if (isDocument(out.readConcern)) out.readConcern = adapter.readConcern(out.readConcern);
  if (isDocument(out.writeConcern)) out.writeConcern = adapter.writeConcern(unwrapNumbersDeep(out.writeConcern) as Document);
  return out;
}

/** Options for a collection/database (`collectionOptions`, `databaseOptions`). */
export function entityOptions(options: unknown, adapter: DriverAdapter): Document {
  if (!isDocument(options)) return {};
  const out: Document = {};
  for (const [k, v] of Object.entries(options)) out[k] = unwrapNumber(v);
  return convertConcerns(out, adapter);
}

/**
 * The driver options for an operation: every argument except `exclude`, with `session` resolved,
 * concerns converted and scalar numbers unwrapped.
 */
export function operationOptions(args: Document, exclude: readonly string[], entities: EntityMap, adapter: DriverAdapter): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(args)) {
    if (exclude.includes(key)) continue;
    if (key === 'session') {
      out.session = entities.require<SessionEntity>(value, 'session').session;
      continue;
    }
    if (key === 'sort') {
      out.sort = unwrapNumbersDeep(value);
      continue;
    }
    out[key] = DOCUMENT_ARGUMENTS.has(key) ? value : unwrapNumber(value);
  }
  if (typeof out.returnDocument === 'string') out.returnDocument = out.returnDocument.toLowerCase();
  return convertConcerns(out, adapter);
}
