/**
 * How authentication failures are reported.
 *
 * Every failure names the user and the mechanism and nothing secret: never the password, a salted
 * password, a proof or a SASL payload. A server refusal (`ok: 0`, e.g. code 18
 * AuthenticationFailed) stays a `MongoServerError` with the server's `code`, `codeName` and
 * labels (the original error is the `cause`); a client-side check that fails (bad server
 * signature, nonce, iteration count, …) is a `MongoAuthenticationError`.
 */
import type { Document } from 'bson';
import { MongoAuthenticationError, MongoServerError, type ServerErrorResponse } from '../errors';
import type { AuthConnection } from './auth_provider';
import type { MongoCredentials } from './mongo_credentials';

/** `Authentication failed for user "alice" with mechanism SCRAM-SHA-256`. */
export function authFailureMessage(credentials: Pick<MongoCredentials, 'username'>, mechanism: string): string {
  const user = credentials.username ? ` for user ${JSON.stringify(credentials.username)}` : '';
  return `Authentication failed${user} with mechanism ${mechanism}`;
}

/** A client-side authentication failure; `reason` must not contain secrets. */
export function clientAuthError(
  credentials: Pick<MongoCredentials, 'username'>,
  mechanism: string,
  reason: string,
  cause?: unknown
): MongoAuthenticationError {
  return new MongoAuthenticationError(`${authFailureMessage(credentials, mechanism)}: ${reason}`, cause === undefined ? undefined : { cause });
}

const wrapped = new WeakSet<Error>();

/**
 * Run a mechanism's conversation, re-raising server refusals as a `MongoServerError` whose message
 * names the user and mechanism. Other errors (network, client-side auth errors) pass through.
 */
export async function withAuthErrorContext<T>(
  credentials: Pick<MongoCredentials, 'username'>,
  mechanism: string,
  conversation: () => Promise<T>
): Promise<T> {
  try {
    return await conversation();
  } catch (error) {
    if (!(error instanceof MongoServerError) || wrapped.has(error)) throw error;
    const response: ServerErrorResponse = { ...error.errorResponse };
    const serverMessage = error.message ? `: ${error.message}` : '';
    response.errmsg = `${authFailureMessage(credentials, mechanism)}${serverMessage}`;
    const authError = new MongoServerError(response, { cause: error });
    for (const label of error.errorLabels) authError.addErrorLabel(label);
    wrapped.add(authError);
    throw authError;
  }
}

/** Send an authentication command; a reply with `ok` other than 1 becomes a `MongoServerError`. */
export async function runAuthCommand(connection: AuthConnection, db: string, command: Document): Promise<Document> {
  const reply = await connection.command(db, command);
  if (reply.ok !== undefined && Number(reply.ok) !== 1) {
    throw new MongoServerError(reply as ServerErrorResponse);
  }
  return reply;
}
