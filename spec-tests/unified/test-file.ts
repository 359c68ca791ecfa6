/**
 * The structure of a unified test file and how the runner reads it.
 *
 * Parsing mode: `EJSON.parse(text, { relaxed: false })`. Canonical parsing keeps every number's
 * BSON type (`Int32`, `Long`, `Double` wrappers), which `$$type` and exact round-tripping of
 * inserted data need; the matcher compares numbers by value whatever their wrapper. Relaxed
 * Extended JSON in the files (`1`, `2.5`) is still accepted: it parses to Int32/Double.
 * Operation arguments therefore contain wrappers, which the runner unwraps where the driver
 * API wants plain JS numbers.
 */
import * as fs from 'node:fs';
import { EJSON, type Document } from 'bson';
import type { ExpectedError, ExpectedEventsForClient, ExpectedLogMessagesForClient } from './expectations';

export interface CollectionData {
  collectionName: string;
  databaseName: string;
  createOptions?: Document;
  documents: Document[];
}

export interface UnifiedOperation {
  name: string;
  object: string;
  arguments?: Document;
  ignoreResultAndError?: boolean;
  expectError?: ExpectedError;
  expectResult?: unknown;
  saveResultAsEntity?: string;
}

export interface UnifiedTest {
  description: string;
  runOnRequirements?: Document[];
  skipReason?: string;
  operations: UnifiedOperation[];
  expectEvents?: ExpectedEventsForClient[];
  expectLogMessages?: ExpectedLogMessagesForClient[];
  outcome?: CollectionData[];
}

export interface UnifiedTestFile {
  description: string;
  schemaVersion: string;
  runOnRequirements?: Document[];
  createEntities?: Document[];
  initialData?: CollectionData[];
  tests: UnifiedTest[];
  _yamlAnchors?: Document;
}

export interface LoadedTestFile {
  /** Plain `JSON.parse` result, for schema validation. */
  raw: unknown;
  /** Extended JSON (canonical mode) parse, for running. */
  file: UnifiedTestFile;
}

export function parseUnifiedTestFile(text: string): LoadedTestFile {
  return { raw: JSON.parse(text) as unknown, file: EJSON.parse(text, { relaxed: false }) as UnifiedTestFile };
}

export function loadUnifiedTestFile(path: string): LoadedTestFile {
  return parseUnifiedTestFile(fs.readFileSync(path, 'utf8'));
}
