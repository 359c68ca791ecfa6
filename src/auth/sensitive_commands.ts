/**
 * Commands whose bodies and replies must be redacted in command monitoring events and command
 * log messages (command-logging-and-monitoring spec, "Security"): the command is replaced by
 * `{}`, the reply by `{}`, and a server failure keeps only `code`, `codeName` and `errorLabels`.
 * `hello` and both legacy hello spellings are sensitive only when they carry
 * `speculativeAuthenticate`. Names are compared case-insensitively (redacting more is safe).
 */
import type { Document } from 'bson';
import { MongoServerError } from '../errors';

export const SENSITIVE_COMMANDS: ReadonlySet<string> = new Set([
  'authenticate',
  'saslstart',
  'saslcontinue',
  'getnonce',
  'createuser',
  'updateuser',
  'copydbgetnonce',
  'copydbsaslstart',
  'copydb'
]);

export const HELLO_COMMANDS: ReadonlySet<string> = new Set(['hello', 'ismaster']);

/**
 * True when a command (and its reply and failure) must be redacted.
 * @param commandName - the command's name (its first key)
 * @param command - the command document, needed to spot `speculativeAuthenticate` on hello
 */
export function isSensitiveCommand(commandName: string, command?: Document): boolean {
  const name = commandName.toLowerCase();
  if (SENSITIVE_COMMANDS.has(name)) return true;
  return HELLO_COMMANDS.has(name) && command != null && command.speculativeAuthenticate != null;
}

/**
 * The failure to report for a sensitive command: a server error keeps only `code`, `codeName`
 * and `errorLabels` (empty message); any other error is replaced by a bare redacted error.
 */
export function redactSensitiveFailure(error: unknown): MongoServerError | Error {
  if (error instanceof MongoServerError) {
    const redacted = new MongoServerError({ errmsg: '', code: error.code, codeName: error.codeName });
    for (const label of error.errorLabels) redacted.addErrorLabel(label);
    return redacted;
  }
  const redacted = new Error('');
  redacted.name = error instanceof Error ? error.name : 'Error';
  return redacted;
}
