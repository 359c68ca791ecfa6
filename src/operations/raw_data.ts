/**
 * The `rawData` option (MongoDB 8.2+, wire 27): read or write timeseries buckets as stored.
 * Sent only to servers that understand it; ignored for older servers (crud spec tests).
 */
import type { Document } from 'bson';
import type { CommandTarget } from './operation';

export const MIN_RAW_DATA_WIRE_VERSION = 27;

export interface RawDataOption {
  rawData?: boolean;
}

export function applyRawData(command: Document, options: RawDataOption, target: CommandTarget): Document {
  if (options.rawData != null && target.maxWireVersion >= MIN_RAW_DATA_WIRE_VERSION) command.rawData = options.rawData;
  return command;
}
