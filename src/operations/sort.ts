/**
 * Sort and hint normalisation: `'a'`, `['a', 1]`, `[['a', 1], ['b', -1]]`, `['a', 'b']`,
 * `{a: 1}` or a Map become an ordered Map of field → 1 | -1 | {$meta}.
 */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from '../errors';
import type { Sort, SortDirection } from '../mongo_types';

export type SortForCommand = Map<string, 1 | -1 | { $meta: string }>;

function direction(value: unknown): 1 | -1 | { $meta: string } {
  if (value === undefined || value === null) return 1;
  if (typeof value === 'object' && typeof (value as Document).$meta === 'string') return { $meta: (value as Document).$meta as string };
  const v = typeof value === 'string' ? value.toLowerCase() : value;
  if (v === 1 || v === 'asc' || v === 'ascending') return 1;
  if (v === -1 || v === 'desc' || v === 'descending') return -1;
  throw new MongoInvalidArgumentError(`Invalid sort direction: ${JSON.stringify(value)}`);
}

function isPair(value: unknown): value is readonly [string, SortDirection] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && !isFieldName(value[1]);
}

function isFieldName(value: unknown): boolean {
  return typeof value === 'string' && !['asc', 'desc', 'ascending', 'descending'].includes(value.toLowerCase());
}

/** Undefined stays undefined; everything else becomes an ordered Map. */
export function formatSort(sort: Sort | undefined, defaultDirection?: SortDirection): SortForCommand | undefined {
  if (sort === undefined || sort === null) return undefined;
  if (typeof sort === 'string') return new Map([[sort, direction(defaultDirection)]]);
  if (sort instanceof Map) return new Map(Array.from(sort, ([k, v]) => [k, direction(v)]));
  if (Array.isArray(sort)) {
    if (sort.length === 0) return undefined;
    if (isPair(sort)) return new Map([[sort[0], direction(sort[1])]]);
    const out: SortForCommand = new Map();
    for (const entry of sort as ReadonlyArray<unknown>) {
      if (typeof entry === 'string') out.set(entry, 1);
      else if (isPair(entry)) out.set(entry[0], direction(entry[1]));
      else throw new MongoInvalidArgumentError(`Invalid sort entry: ${JSON.stringify(entry)}`);
    }
    return out;
  }
  if (typeof sort === 'object') return new Map(Object.entries(sort as Document).map(([k, v]) => [k, direction(v)]));
  throw new MongoInvalidArgumentError(`Invalid sort: ${JSON.stringify(sort)}`);
}

/**
 * An ordered Map as the command field: a plain document when no key looks like an array index
 * (those would be reordered by JavaScript objects), else the Map itself (BSON keeps its order).
 */
export function orderedDocument<V>(map: ReadonlyMap<string, V>): Document | ReadonlyMap<string, V> {
  for (const key of map.keys()) if (/^(0|[1-9]\d*)$/.test(key)) return map;
  return Object.fromEntries(map);
}
