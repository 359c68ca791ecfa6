/**
 * Classification of server errors for SDAM error handling (server-discovery-and-monitoring
 * spec, '"not writable primary" and "node is recovering"'): State Change Errors are detected
 * by numeric code when the reply has one, and by message only when it does not. A write
 * concern error is checked like a command error; errors inside `writeErrors` never are.
 */
import { MongoErrorCode, MongoServerError, MongoWriteConcernError } from '../errors';

const RECOVERING_CODES: ReadonlySet<number> = new Set<number>([
  MongoErrorCode.InterruptedAtShutdown,
  MongoErrorCode.InterruptedDueToReplStateChange,
  MongoErrorCode.NotPrimaryOrSecondary,
  MongoErrorCode.PrimarySteppedDown,
  MongoErrorCode.ShutdownInProgress
]);

const NOT_WRITABLE_PRIMARY_CODES: ReadonlySet<number> = new Set<number>([
  MongoErrorCode.NotWritablePrimary,
  MongoErrorCode.NotPrimaryNoSecondaryOk,
  MongoErrorCode.LegacyNotPrimary
]);

const SHUTDOWN_CODES: ReadonlySet<number> = new Set<number>([
  MongoErrorCode.InterruptedAtShutdown,
  MongoErrorCode.ShutdownInProgress
]);

interface CommandErrorInfo {
  code: number | null;
  message: string;
}

/**
 * The code and message SDAM must inspect, or null when `error` is not a command error or
 * write concern error (e.g. a network error, or an `ok: 1` reply carrying only write errors).
 */
function commandErrorInfo(error: unknown): CommandErrorInfo | null {
  if (!(error instanceof MongoServerError)) return null;
  if (!(error instanceof MongoWriteConcernError) && Number(error.errorResponse.ok) === 1) {
    // An acknowledged write whose failures are in `writeErrors`: those are never checked.
    return null;
  }
  const code = typeof error.code === 'number' ? error.code : null;
  return { code, message: error.message };
}

/** A "node is recovering" error (codes 11600, 11602, 13436, 189, 91, or a matching message). */
export function isRecoveringError(error: unknown): boolean {
  const info = commandErrorInfo(error);
  if (!info) return false;
  if (info.code !== null) return RECOVERING_CODES.has(info.code);
  return info.message.includes('not master or secondary') || info.message.includes('node is recovering');
}

/** A "not writable primary" error (codes 10107, 13435, 10058, or a "not master" message). */
export function isNotWritablePrimaryError(error: unknown): boolean {
  const info = commandErrorInfo(error);
  if (!info) return false;
  if (info.code !== null) return NOT_WRITABLE_PRIMARY_CODES.has(info.code);
  if (isRecoveringError(error)) return false;
  return info.message.includes('not master');
}

/** A State Change Error: "node is recovering" or "not writable primary". */
export function isStateChangeError(error: unknown): boolean {
  return isRecoveringError(error) || isNotWritablePrimaryError(error);
}

/** A "node is shutting down" error (codes 11600 and 91): the only State Change Errors that clear the pool. */
export function isNodeShuttingDownError(error: unknown): boolean {
  const info = commandErrorInfo(error);
  return info !== null && info.code !== null && SHUTDOWN_CODES.has(info.code);
}
