/**
 * Read preference (server-selection spec "Read Preference" and max-staleness spec): which servers
 * may serve a read, and the `$readPreference` document sent to mongos, load balancers and
 * direct connections. Shaped like the official Node.js driver's `ReadPreference`.
 */
import { MongoInvalidArgumentError } from './errors';
import { ServerType, TopologyType, type TagSet } from './sdam/types';

export const ReadPreferenceMode = Object.freeze({
  primary: 'primary',
  primaryPreferred: 'primaryPreferred',
  secondary: 'secondary',
  secondaryPreferred: 'secondaryPreferred',
  nearest: 'nearest'
} as const);
export type ReadPreferenceMode = (typeof ReadPreferenceMode)[keyof typeof ReadPreferenceMode];

/** How often an idle primary writes a no-op to the oplog (max-staleness spec), in ms. */
export const IDLE_WRITE_PERIOD_MS = 10_000;
/** The smallest positive `maxStalenessSeconds` accepted for a replica set. */
export const SMALLEST_MAX_STALENESS_SECONDS = 90;

/** @deprecated Hedged reads are deprecated in MongoDB 8.0 and will be removed in a future server version. */
export interface HedgeOptions {
  /** Explicitly enable or disable hedged reads. */
  enabled?: boolean;
}

export interface ReadPreferenceOptions {
  /** Max secondary staleness in seconds; -1 (or absent) means no maximum. At least 90 for replica sets. */
  maxStalenessSeconds?: number | null;
  /** @deprecated Hedged reads are deprecated in MongoDB 8.0. */
  hedge?: HedgeOptions;
}

/** The `$readPreference` document shape (server-selection spec "Document structure"). */
export interface ReadPreferenceDocument {
  mode: ReadPreferenceMode;
  tags?: TagSet[];
  maxStalenessSeconds?: number;
  hedge?: HedgeOptions;
}

/** Anything a user may pass where a read preference is expected. */
export type ReadPreferenceLike =
  | ReadPreference
  | ReadPreferenceMode
  | (Partial<ReadPreferenceDocument> & { preference?: ReadPreferenceMode });

export interface ReadPreferenceFromOptions extends ReadPreferenceOptions {
  readPreference?: ReadPreferenceLike | null;
  /** Tag sets given separately (e.g. `readPreferenceTags` in the connection string). */
  readPreferenceTags?: TagSet[];
}

const MODES_BY_LOWER_CASE = new Map<string, ReadPreferenceMode>(
  Object.values(ReadPreferenceMode).map((mode) => [mode.toLowerCase(), mode])
);

export class ReadPreference {
  readonly mode: ReadPreferenceMode;
  /** Ordered tag sets; absent means `[{}]` (every server matches). */
  readonly tags?: readonly TagSet[];
  /** Absent means no maximum staleness. */
  readonly maxStalenessSeconds?: number;
  /** @deprecated Hedged reads are deprecated in MongoDB 8.0. */
  readonly hedge?: HedgeOptions;

  static readonly PRIMARY = ReadPreferenceMode.primary;
  static readonly PRIMARY_PREFERRED = ReadPreferenceMode.primaryPreferred;
  static readonly SECONDARY = ReadPreferenceMode.secondary;
  static readonly SECONDARY_PREFERRED = ReadPreferenceMode.secondaryPreferred;
  static readonly NEAREST = ReadPreferenceMode.nearest;

  static readonly primary = new ReadPreference(ReadPreferenceMode.primary);
  static readonly primaryPreferred = new ReadPreference(ReadPreferenceMode.primaryPreferred);
  static readonly secondary = new ReadPreference(ReadPreferenceMode.secondary);
  static readonly secondaryPreferred = new ReadPreference(ReadPreferenceMode.secondaryPreferred);
  static readonly nearest = new ReadPreference(ReadPreferenceMode.nearest);

  /**
   * @throws MongoInvalidArgumentError for an unknown mode, a malformed tag set list, a
   *   `maxStalenessSeconds` that is neither -1 nor a positive integer, or mode `primary`
   *   combined with non-empty tags, a max staleness or hedge.
   */
  constructor(mode: ReadPreferenceMode, tags?: readonly TagSet[] | null, options?: ReadPreferenceOptions) {
    if (!ReadPreference.isValid(mode)) {
      throw new MongoInvalidArgumentError(`Invalid read preference mode ${JSON.stringify(mode)}`);
    }
    this.mode = mode;

    if (tags != null) {
      if (!Array.isArray(tags) || !tags.every(isTagSet)) {
        throw new MongoInvalidArgumentError('Read preference tags must be an array of tag set documents');
      }
      this.tags = Object.freeze(tags.map((tagSet) => Object.freeze({ ...tagSet })));
    }

    const maxStaleness = options?.maxStalenessSeconds;
    if (maxStaleness != null && maxStaleness !== -1) {
      if (typeof maxStaleness !== 'number' || !Number.isInteger(maxStaleness) || maxStaleness <= 0) {
        throw new MongoInvalidArgumentError(
          `maxStalenessSeconds must be a positive integer or -1 (no maximum), got ${String(maxStaleness)}`
        );
      }
      this.maxStalenessSeconds = maxStaleness;
    }

    if (options?.hedge != null) {
      if (typeof options.hedge !== 'object' || Array.isArray(options.hedge)) {
        throw new MongoInvalidArgumentError('Read preference hedge must be a document');
      }
      this.hedge = Object.freeze({ ...options.hedge });
    }

    if (mode === ReadPreferenceMode.primary) {
      if (this.tags?.some((tagSet) => Object.keys(tagSet).length > 0)) {
        throw new MongoInvalidArgumentError('Primary read preference cannot be combined with tags');
      }
      if (this.maxStalenessSeconds !== undefined) {
        throw new MongoInvalidArgumentError('Primary read preference cannot be combined with maxStalenessSeconds');
      }
      if (this.hedge !== undefined) {
        throw new MongoInvalidArgumentError('Primary read preference cannot be combined with hedge');
      }
    }
    Object.freeze(this);
  }

  static isValid(mode: unknown): mode is ReadPreferenceMode {
    return typeof mode === 'string' && MODES_BY_LOWER_CASE.get(mode.toLowerCase()) === mode;
  }

  /** A read preference from a mode name; the name is matched case-insensitively (`SecondaryPreferred` works). */
  static fromString(mode: string): ReadPreference {
    const normalized = typeof mode === 'string' ? MODES_BY_LOWER_CASE.get(mode.toLowerCase()) : undefined;
    if (normalized === undefined) {
      throw new MongoInvalidArgumentError(`Invalid read preference mode ${JSON.stringify(mode)}`);
    }
    return new ReadPreference(normalized);
  }

  /**
   * The read preference described by `options.readPreference` (an instance, a mode name or a
   * document), combined with `readPreferenceTags`, `maxStalenessSeconds` and `hedge`. Returns
   * undefined when no read preference is given.
   */
  static fromOptions(options?: ReadPreferenceFromOptions | null): ReadPreference | undefined {
    const readPreference = options?.readPreference;
    if (readPreference == null) return undefined;
    const tags = options?.readPreferenceTags;

    if (readPreference instanceof ReadPreference) {
      if (tags == null) return readPreference;
      return new ReadPreference(readPreference.mode, tags, {
        maxStalenessSeconds: readPreference.maxStalenessSeconds,
        hedge: readPreference.hedge
      });
    }
    if (typeof readPreference === 'string') {
      return new ReadPreference(ReadPreference.fromString(readPreference).mode, tags, {
        maxStalenessSeconds: options?.maxStalenessSeconds,
        hedge: options?.hedge
      });
    }
    if (typeof readPreference === 'object') {
      const mode = readPreference.mode ?? readPreference.preference;
      if (typeof mode !== 'string') {
        throw new MongoInvalidArgumentError('A read preference document requires a "mode"');
      }
      return new ReadPreference(ReadPreference.fromString(mode).mode, readPreference.tags ?? tags, {
        maxStalenessSeconds: readPreference.maxStalenessSeconds ?? options?.maxStalenessSeconds,
        hedge: readPreference.hedge ?? options?.hedge
      });
    }
    throw new MongoInvalidArgumentError(`Invalid read preference: ${String(readPreference)}`);
  }

  /** Deprecated alias of `mode`, kept for parity with the official driver. */
  get preference(): ReadPreferenceMode {
    return this.mode;
  }

  /** True for every mode but `primary`: the operation may run on a secondary. */
  secondaryOk(): boolean {
    return this.mode !== ReadPreferenceMode.primary;
  }

  /** Same mode, tags, max staleness and hedge. */
  equals(other: ReadPreference): boolean {
    return JSON.stringify(this.toJSON()) === JSON.stringify(other.toJSON());
  }

  /** The `$readPreference` document: `mode`, plus `tags`, `maxStalenessSeconds` and `hedge` when set. */
  toJSON(): ReadPreferenceDocument {
    const doc: ReadPreferenceDocument = { mode: this.mode };
    if (this.tags && this.tags.length > 0) doc.tags = this.tags.map((tagSet) => ({ ...tagSet }));
    if (this.maxStalenessSeconds !== undefined) doc.maxStalenessSeconds = this.maxStalenessSeconds;
    if (this.hedge !== undefined) doc.hedge = { ...this.hedge };
    return doc;
  }

  /** For messages and logs: the mode followed by every other component that is set. */
  toString(): string {
    const parts: string[] = [];
    if (this.tags && this.tags.length > 0) parts.push(`tags ${JSON.stringify(this.tags)}`);
    if (this.maxStalenessSeconds !== undefined) parts.push(`maxStalenessSeconds ${this.maxStalenessSeconds}`);
    if (this.hedge !== undefined) parts.push(`hedge ${JSON.stringify(this.hedge)}`);
    return parts.length ? `${this.mode} (${parts.join(', ')})` : this.mode;
  }
}

function isTagSet(value: unknown): value is TagSet {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Server-selection spec: with a replica set, a positive `maxStalenessSeconds` must be at least
 * 90 and at least `heartbeatFrequencyMS + idleWritePeriodMS` (converted to seconds).
 * @throws MongoInvalidArgumentError when it is smaller.
 */
export function validateMaxStalenessSeconds(readPreference: ReadPreference, heartbeatFrequencyMS: number): void {
  const maxStaleness = readPreference.maxStalenessSeconds;
  if (maxStaleness === undefined) return;
  const minimum = (heartbeatFrequencyMS + IDLE_WRITE_PERIOD_MS) / 1000;
  if (maxStaleness * 1000 < heartbeatFrequencyMS + IDLE_WRITE_PERIOD_MS) {
    throw new MongoInvalidArgumentError(
      `maxStalenessSeconds must be at least ${minimum} seconds (heartbeatFrequencyMS + 10s idle write period), got ${maxStaleness}`
    );
  }
  if (maxStaleness < SMALLEST_MAX_STALENESS_SECONDS) {
    throw new MongoInvalidArgumentError(
      `maxStalenessSeconds must be at least ${SMALLEST_MAX_STALENESS_SECONDS} seconds, got ${maxStaleness}`
    );
  }
}

/**
 * The `$readPreference` global command argument (OP_MSG) to attach to a read sent to a server
 * of `serverType` in a topology of `topologyType`, or undefined when none must be sent.
 * Rules (server-selection spec, "Passing read preference to mongos and load balancers" and
 * "Topology type: Single"):
 * - Standalone: never.
 * - Mongos or LoadBalancer (any topology): not for mode primary, otherwise the read preference.
 * - Topology Single, any other server type: `{ mode: 'primaryPreferred' }` when the read
 *   preference is absent or primary (so a direct connection to a secondary can serve reads),
 *   otherwise the read preference.
 * - Replica set topologies: not for mode primary, otherwise the read preference.
 */
export function readPreferenceForCommand(
  readPreference: ReadPreference | undefined,
  topologyType: TopologyType,
  serverType: ServerType
): ReadPreferenceDocument | undefined {
  if (serverType === ServerType.Standalone) return undefined;
  const isPrimary = readPreference === undefined || readPreference.mode === ReadPreferenceMode.primary;
  if (serverType === ServerType.Mongos || serverType === ServerType.LoadBalancer) {
    return isPrimary ? undefined : readPreference.toJSON();
  }
  if (topologyType === TopologyType.Single) {
    return isPrimary ? { mode: ReadPreferenceMode.primaryPreferred } : readPreference.toJSON();
  }
  return isPrimary ? undefined : readPreference.toJSON();
}
