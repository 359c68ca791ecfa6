/**
 * SCRAM-SHA-1 and SCRAM-SHA-256 over MongoDB's SASL commands (auth spec, RFC 5802, RFC 7677).
 *
 *  - SHA-256: the password is SASLprep'd; SHA-1: the password is MongoDB's digest
 *    HEX(MD5(`<username>:mongo:<password>`)). Usernames are never SASLprep'd.
 *  - `saslStart` carries `options: { skipEmptyExchange: true }`; if the server still answers the
 *    client-final message with `done: false`, one empty `saslContinue` finishes the conversation.
 *  - Speculative authentication: `prepareHandshake` puts the `saslStart` (plus `db`) in the `hello`
 *    as `speculativeAuthenticate`; when the reply carries `speculativeAuthenticate`, the
 *    conversation continues from it, otherwise a normal conversation runs.
 *  - Derived keys are cached (see scram_key_cache.ts).
 */
import { randomBytes, createHash } from 'node:crypto';
import type { Document } from 'bson';
import saslprep from '@mongodb-js/saslprep';
import { MongoInvalidArgumentError, MongoMissingCredentialsError } from '../errors';
import { clientAuthError, runAuthCommand, withAuthErrorContext } from './auth_error';
import type { AuthContext, AuthProvider } from './auth_provider';
import type { MongoCredentials } from './mongo_credentials';
import { payloadBytes, saslContinueCommand, saslStartCommand } from './sasl';
import { ScramClient } from './scram_client';
import type { ScramKeyCache, ScramMechanism } from './scram_key_cache';

export interface ScramProviderOptions {
  /** Client nonce source (default: 24 random bytes, base64). Tests inject fixed nonces. */
  nonce?: () => string;
  /** Key cache (default: the process-wide cache). */
  keyCache?: ScramKeyCache;
}

/** What `prepareHandshake` leaves in `ctx.speculative` for `auth`. */
class ScramSpeculation {
  constructor(
    readonly mechanism: ScramMechanism,
    readonly client: ScramClient
  ) {}
}

export function defaultScramNonce(): string {
  return randomBytes(24).toString('base64');
}

/** The password as the SCRAM math consumes it for `mechanism`. */
export function prepareScramPassword(mechanism: ScramMechanism, username: string, password: string): string {
  if (mechanism === 'SCRAM-SHA-1') {
    return createHash('md5').update(`${username}:mongo:${password}`, 'utf8').digest('hex');
  }
  try {
    return saslprep(password);
  } catch {
    // saslprep's own message is generic, but never risk echoing any part of the password.
    throw new MongoInvalidArgumentError(`The password for user ${JSON.stringify(username)} contains characters SASLprep prohibits`);
  }
}

export class ScramProvider implements AuthProvider {
  private readonly nonce: () => string;
  private readonly keyCache?: ScramKeyCache;

  constructor(
    readonly mechanism: ScramMechanism,
    options: ScramProviderOptions = {}
  ) {
    this.nonce = options.nonce ?? defaultScramNonce;
    this.keyCache = options.keyCache;
  }

  async prepareHandshake(hello: Document, ctx: AuthContext): Promise<Document> {
    const client = this.newClient(ctx.credentials);
    ctx.speculative = new ScramSpeculation(this.mechanism, client);
    return { ...hello, speculativeAuthenticate: { ...this.saslStart(client), db: ctx.credentials.source } };
  }

  async auth(ctx: AuthContext): Promise<void> {
    const { credentials, connection } = ctx;
    const username = requireUsername(credentials, this.mechanism);
    if (credentials.password === undefined) {
      throw new MongoMissingCredentialsError(`A password is required for user ${JSON.stringify(username)} with mechanism ${this.mechanism}`);
    }
    const password = prepareScramPassword(this.mechanism, username, credentials.password);
    const source = credentials.source;

    await withAuthErrorContext(credentials, this.mechanism, async () => {
      const speculation = ctx.speculative;
      const speculativeReply: unknown = ctx.hello?.speculativeAuthenticate;
      ctx.speculative = undefined; // single use
      let client: ScramClient;
      let reply: Document;
      if (speculation instanceof ScramSpeculation && speculation.mechanism === this.mechanism && isDocument(speculativeReply)) {
        client = speculation.client;
        reply = speculativeReply;
      } else {
        client = this.newClient(credentials);
        reply = await runAuthCommand(connection, source, this.saslStart(client));
      }

      const conversationId: unknown = reply.conversationId;
      const clientFinal = await client.clientFinalMessage(payloadText(reply), password);
      let finalReply = await runAuthCommand(connection, source, saslContinueCommand(conversationId, Buffer.from(clientFinal, 'utf8')));
      client.verifyServerFinal(payloadText(finalReply));
      if (finalReply.done !== true) {
        // Servers ignoring skipEmptyExchange want one more, empty, round trip.
        finalReply = await runAuthCommand(connection, source, saslContinueCommand(finalReply.conversationId ?? conversationId, new Uint8Array(0)));
        if (finalReply.done !== true) {
          throw clientAuthError(credentials, this.mechanism, 'server did not complete the SASL conversation');
        }
      }
    });
  }

  private newClient(credentials: MongoCredentials): ScramClient {
    return new ScramClient({
      mechanism: this.mechanism,
      username: requireUsername(credentials, this.mechanism),
      nonce: this.nonce(),
      keyCache: this.keyCache
    });
  }

  private saslStart(client: ScramClient): Document {
    return saslStartCommand(this.mechanism, Buffer.from(client.clientFirstMessage(), 'utf8'), {
      extra: { options: { skipEmptyExchange: true } }
    });
  }
}

function requireUsername(credentials: MongoCredentials, mechanism: string): string {
  if (!credentials.username) throw new MongoMissingCredentialsError(`A username is required for mechanism ${mechanism}`);
  return credentials.username;
}

function payloadText(reply: Document): string {
  return Buffer.from(payloadBytes(reply)).toString('utf8');
}

function isDocument(value: unknown): value is Document {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
