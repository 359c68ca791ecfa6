/**
 * Normalisation of the commands two drivers sent for the same unified test, so that only
 * meaningful differences remain (the differential mode). Each rule and why it is sound:
 *
 * 1. Wire types: every command goes through a BSON round trip and canonical Extended JSON, so a
 *    JS number and an Int32 compare equal exactly when they would be the same on the wire
 *    (`undefined` fields are dropped, as serialisation drops them).
 * 2. `$db` is removed: it is the event's databaseName, compared separately.
 * 3. `lsid` becomes `<lsid#N>`, N counting distinct session ids in order of first appearance:
 *    session ids are random UUIDs; what matters is which commands share a session.
 * 4. `txnNumber` becomes `<txn#N>` per session, N counting distinct values in order of first
 *    appearance for that session: the spec requires a monotonically increasing number per
 *    session, not particular values.
 * 5. `$clusterTime` becomes `<clusterTime>`: its value is gossip from the deployment; presence
 *    is still compared.
 * 6. ObjectIds become `<oid#N>` in order of first appearance: drivers generate `_id`s (inserts,
 *    GridFS files) randomly; fixed ids from the test file map to the same token on both sides.
 * 7. Key order: keys are sorted, except that the command name stays first (the only ordering
 *    the server requires, OP_MSG spec).
 * 8. With CSOT (`timeoutMS` anywhere in the test), `maxTimeMS` values become `<maxTimeMS>`:
 *    they are derived from the remaining time budget, which depends on timing.
 * 9. `operationTime`/`afterClusterTime` and `atClusterTime` Timestamps become `<timestamp>`: the
 *    mock's clock advances with each write, and how many writes happened before is already
 *    compared through the command sequence itself.
 */
import { BSON, EJSON, type Document } from 'bson';

export interface NormalizedCommand {
  client: string;
  databaseName: string;
  commandName: string;
  /** Canonical JSON of the normalised command. */
  command: string;
}

export interface NormalizeOptions {
  /** Rule 8: the test uses timeoutMS. */
  csot?: boolean;
}

/** Per-run token tables (rules 3, 4, 6). */
class Tokens {
  private readonly lsids = new Map<string, string>();
  private readonly txnNumbers = new Map<string, Map<string, string>>();
  private readonly oids = new Map<string, string>();

  lsid(value: unknown): string {
    const key = JSON.stringify(value);
    let token = this.lsids.get(key);
    if (!token) this.lsids.set(key, (token = `<lsid#${this.lsids.size + 1}>`));
    return token;
  }

  txnNumber(lsidToken: string, value: unknown): string {
    let perSession = this.txnNumbers.get(lsidToken);
    if (!perSession) this.txnNumbers.set(lsidToken, (perSession = new Map()));
    const key = JSON.stringify(value);
    let token = perSession.get(key);
    if (!token) perSession.set(key, (token = `<txn#${perSession.size + 1}>`));
    return token;
  }

  oid(hex: string): string {
    let token = this.oids.get(hex);
    if (!token) this.oids.set(hex, (token = `<oid#${this.oids.size + 1}>`));
    return token;
  }
}

/** Rule 1: the command as the server would see it, in canonical Extended JSON. */
export function wireCanonical(command: Document): Document {
  const bytes = BSON.serialize(command, { ignoreUndefined: true });
  const back = BSON.deserialize(bytes, { promoteValues: false, promoteBuffers: false });
  return EJSON.serialize(back, { relaxed: false }) as Document;
}

function isPlainObject(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function rewrite(value: unknown, tokens: Tokens, options: NormalizeOptions, key?: string): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, tokens, options));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$oid') return tokens.oid(String(value.$oid));
  if (keys.length === 1 && keys[0] === '$timestamp' && (key === 'afterClusterTime' || key === 'atClusterTime' || key === 'operationTime')) {
    return '<timestamp>';
  }
  const out: Document = {};
  for (const k of keys) out[k] = rewrite(value[k], tokens, options, k);
  return out;
}

function sortKeys(value: unknown, keepFirst: boolean): unknown {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v, false));
  if (!isPlainObject(value)) return value;
  const keys = Object.keys(value);
  const first = keepFirst ? keys.slice(0, 1) : [];
  const rest = (keepFirst ? keys.slice(1) : keys).sort();
  const out: Document = {};
  for (const k of [...first, ...rest]) out[k] = sortKeys(value[k], false);
  return out;
}

export function normalizeCommands(
  events: ReadonlyArray<{ client: string; databaseName: string; commandName: string; command: Document }>,
  options: NormalizeOptions = {}
): NormalizedCommand[] {
  const tokens = new Tokens();
  return events.map((e) => {
    const doc = wireCanonical(e.command);
    delete doc.$db;
    let lsidToken: string | undefined;
    if (doc.lsid !== undefined) doc.lsid = lsidToken = tokens.lsid(doc.lsid);
    if (doc.txnNumber !== undefined) doc.txnNumber = tokens.txnNumber(lsidToken ?? '<no lsid>', doc.txnNumber);
    if (doc.$clusterTime !== undefined) doc.$clusterTime = '<clusterTime>';
    if (options.csot && doc.maxTimeMS !== undefined) doc.maxTimeMS = '<maxTimeMS>';
    const normalized = sortKeys(rewrite(doc, tokens, options), true);
    return { client: e.client, databaseName: e.databaseName, commandName: e.commandName, command: JSON.stringify(normalized) };
  });
}

/** One line per command, for diffs. */
export function formatCommand(c: NormalizedCommand): string {
  return `${c.client} ${c.databaseName}.${c.commandName} ${c.command}`;
}

/** Undefined when equal, else a short diff around the first difference. */
export function diffCommandSequences(reference: readonly NormalizedCommand[], candidate: readonly NormalizedCommand[], names: [string, string]): string | undefined {
  const a = reference.map(formatCommand);
  const b = candidate.map(formatCommand);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (i === a.length && i === b.length) return undefined;
  const show = (lines: string[], from: number) =>
    lines.slice(from, from + 3).map((l) => (l.length > 600 ? `${l.slice(0, 600)}…` : l)).join('\n      ') || '(no more commands)';
  return [
    `commands differ at #${i + 1} (${names[0]} sent ${a.length}, ${names[1]} sent ${b.length}):`,
    `  ${names[0]}:\n      ${show(a, i)}`,
    `  ${names[1]}:\n      ${show(b, i)}`
  ].join('\n');
}
