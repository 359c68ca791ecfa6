/** Write concern (read-write-concern spec). Options use `wtimeoutMS`/`journal`; commands get `wtimeout`/`j`. */
import type { Document } from 'bson';
import { MongoInvalidArgumentError } from './errors';

export type W = number | 'majority' | (string & Record<never, never>);

export interface WriteConcernOptions {
  w?: W;
  wtimeoutMS?: number;
  journal?: boolean;
  /** Aliases accepted as in the official driver. */
  j?: boolean;
  wtimeout?: number;
}

/** The document shape sent to the server. */
export interface WriteConcernDocument {
  w?: W;
  j?: boolean;
  wtimeout?: number;
}

export class WriteConcern {
  readonly w?: W;
  readonly wtimeoutMS?: number;
  readonly journal?: boolean;

  constructor(w?: W, wtimeoutMS?: number, journal?: boolean) {
    if (w !== undefined && typeof w !== 'number' && typeof w !== 'string') {
      throw new MongoInvalidArgumentError('write concern w must be a number or a string');
    }
    if (typeof w === 'number' && (w < 0 || !Number.isInteger(w))) {
      throw new MongoInvalidArgumentError(`write concern w must be a non-negative integer, got ${w}`);
    }
    if (wtimeoutMS !== undefined && (typeof wtimeoutMS !== 'number' || wtimeoutMS < 0)) {
      throw new MongoInvalidArgumentError('write concern wtimeoutMS must be a non-negative number');
    }
    if (w === 0 && journal === true) {
      throw new MongoInvalidArgumentError('write concern w: 0 cannot be combined with journal: true');
    }
    this.w = w;
    this.wtimeoutMS = wtimeoutMS;
    this.journal = journal;
    Object.freeze(this);
  }

  static fromOptions(options?: { writeConcern?: WriteConcernOptions | WriteConcern | W } & WriteConcernOptions): WriteConcern | undefined {
    if (!options) return undefined;
    const wc = options.writeConcern;
    if (wc instanceof WriteConcern) return wc;
    if (typeof wc === 'number' || typeof wc === 'string') return new WriteConcern(wc);
    const src: WriteConcernOptions = wc && typeof wc === 'object' ? wc : options;
    const w = src.w;
    const wtimeoutMS = src.wtimeoutMS ?? src.wtimeout;
    const journal = src.journal ?? src.j;
    if (w === undefined && wtimeoutMS === undefined && journal === undefined) return undefined;
    return new WriteConcern(w, wtimeoutMS, journal);
  }

  /** `w: 0` without journal: the server sends no reply. */
  get isAcknowledged(): boolean {
    return !(this.w === 0 && this.journal !== true);
  }

  get isServerDefault(): boolean {
    return this.w === undefined && this.wtimeoutMS === undefined && this.journal === undefined;
  }

  toJSON(): WriteConcernDocument {
    const doc: WriteConcernDocument = {};
    if (this.w !== undefined) doc.w = this.w;
    if (this.journal !== undefined) doc.j = this.journal;
    if (this.wtimeoutMS !== undefined) doc.wtimeout = this.wtimeoutMS;
    return doc;
  }

  /** A copy with `w: "majority"` (and wtimeout 10 s when none was set), for commit retries. */
  withMajority(): WriteConcern {
    return new WriteConcern('majority', this.wtimeoutMS ?? 10_000, this.journal);
  }

  toCommand(): Document {
    return this.toJSON() as Document;
  }

  static readonly majority = new WriteConcern('majority');
}
