/** Read concern (read-write-concern spec). */
import type { Document, Timestamp } from 'bson';
import { MongoInvalidArgumentError } from './errors';

export const ReadConcernLevel = Object.freeze({
  local: 'local',
  majority: 'majority',
  linearizable: 'linearizable',
  available: 'available',
  snapshot: 'snapshot'
} as const);
export type ReadConcernLevel = (typeof ReadConcernLevel)[keyof typeof ReadConcernLevel];

export interface ReadConcernLike {
  level?: ReadConcernLevel | string;
}

export class ReadConcern {
  /** Absent means the server default. */
  readonly level?: ReadConcernLevel | string;

  constructor(level?: ReadConcernLevel | string) {
    if (level !== undefined && typeof level !== 'string') {
      throw new MongoInvalidArgumentError(`readConcern level must be a string, got ${typeof level}`);
    }
    this.level = level;
    Object.freeze(this);
  }

  static fromOptions(options?: { readConcern?: ReadConcernLike | ReadConcernLevel | string; readConcernLevel?: string }): ReadConcern | undefined {
    if (!options) return undefined;
    const rc = options.readConcern;
    if (rc instanceof ReadConcern) return rc;
    if (typeof rc === 'string') return new ReadConcern(rc);
    if (rc && typeof rc === 'object') return new ReadConcern(rc.level);
    if (options.readConcernLevel !== undefined) return new ReadConcern(options.readConcernLevel);
    return undefined;
  }

  /** True for the server default (`{}`), which is never sent. */
  get isServerDefault(): boolean {
    return this.level === undefined;
  }

  toJSON(): Document {
    return this.level === undefined ? {} : { level: this.level };
  }

  /** The document sent in a command, with the session's causal-consistency fields. */
  toCommand(extra?: { afterClusterTime?: Timestamp; atClusterTime?: Timestamp }): Document {
    const doc: Document = this.toJSON();
    if (extra?.afterClusterTime) doc.afterClusterTime = extra.afterClusterTime;
    if (extra?.atClusterTime) doc.atClusterTime = extra.atClusterTime;
    return doc;
  }

  static readonly local = new ReadConcern('local');
  static readonly majority = new ReadConcern('majority');
  static readonly snapshot = new ReadConcern('snapshot');
}
