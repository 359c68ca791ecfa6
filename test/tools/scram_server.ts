/**
 * An in-process SCRAM server: given users and passwords it answers `saslStart` / `saslContinue`
 * (and the auth parts of `hello`: `saslSupportedMechs`, `speculativeAuthenticate`) the way mongod
 * does, verifying the client proof with StoredKey/ServerKey exactly like a real server.
 *
 * Knobs let tests misbehave on purpose: tamper the server signature, send a nonce that does not
 * extend the client's, use a too-low iteration count, ignore `skipEmptyExchange` (pre-4.4 flow)
 * or ignore `speculativeAuthenticate` (older server).
 *
 * `handleCommand(db, cmd)` returns the raw reply (ok: 0 on failure, code 18 for bad credentials);
 * `connection()` wraps it as an `AuthConnection` that rejects with `MongoServerError` on ok: 0.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Binary, type Document } from 'bson';
import saslprep from '@mongodb-js/saslprep';
import { MongoServerError } from '../../src/errors';
import type { AuthConnection } from '../../src/auth/auth_provider';

export type ScramServerMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256';

export interface ScramServerUser {
  username: string;
  password: string;
  /** Database the user is defined on (default `admin`). */
  db?: string;
  /** Mechanisms the user has credentials for (default both). */
  mechanisms?: ScramServerMechanism[];
}

export interface ScramServerOptions {
  users: ScramServerUser[];
  /** Iteration count for stored credentials (default: mongod's 10000 for SHA-1, 15000 for SHA-256). */
  iterationCount?: number;
  /** Send a wrong `v=` server signature. */
  tamperServerSignature?: boolean;
  /** Send a combined nonce that does not start with the client nonce. */
  nonceNotExtendingClient?: boolean;
  /** Honour `options.skipEmptyExchange` (default true); false = pre-4.4 three round trips. */
  supportsSkipEmptyExchange?: boolean;
  /** Answer `speculativeAuthenticate` in hello (default true). */
  supportsSpeculativeAuthenticate?: boolean;
  /** Server nonce part (default: 24 random bytes, base64). */
  serverNonce?: () => string;
}

interface StoredCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

interface Conversation {
  db: string;
  username: string;
  mechanism: ScramServerMechanism;
  clientFirstBare: string;
  serverFirst: string;
  combinedNonce: string;
  skipEmptyExchange: boolean;
  step: 'final' | 'empty' | 'done';
}

const AUTH_FAILED: Document = { ok: 0, code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' };

function hashOf(mechanism: ScramServerMechanism): 'sha1' | 'sha256' {
  return mechanism === 'SCRAM-SHA-1' ? 'sha1' : 'sha256';
}

function bytesOf(payload: unknown): Buffer {
  if (payload instanceof Binary) return Buffer.from(payload.value());
  if (payload instanceof Uint8Array) return Buffer.from(payload);
  if (typeof payload === 'string') return Buffer.from(payload, 'base64');
  return Buffer.alloc(0);
}

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of message.split(',')) if (part[1] === '=') map.set(part[0], part.slice(2));
  return map;
}

export class ScramServer {
  /** Every command received, in order (db + command). */
  readonly received: Array<{ db: string; command: Document }> = [];
  /** Successful authentications. */
  readonly authenticated: Array<{ db: string; username: string; mechanism: ScramServerMechanism }> = [];
  private readonly options: ScramServerOptions;
  private readonly credentials = new Map<string, StoredCredential>();
  private readonly conversations = new Map<number, Conversation>();
  private nextConversationId = 1;

  constructor(options: ScramServerOptions) {
    this.options = options;
    for (const user of options.users) {
      for (const mechanism of user.mechanisms ?? ['SCRAM-SHA-1', 'SCRAM-SHA-256']) {
        const hash = hashOf(mechanism);
        const iterations = options.iterationCount ?? (mechanism === 'SCRAM-SHA-1' ? 10000 : 15000);
        const salt = randomBytes(mechanism === 'SCRAM-SHA-1' ? 16 : 28);
        const password =
          mechanism === 'SCRAM-SHA-1'
            ? createHash('md5').update(`${user.username}:mongo:${user.password}`).digest('hex')
            : saslprep(user.password);
        const salted = pbkdf2Sync(password, salt, iterations, hash === 'sha1' ? 20 : 32, hash);
        const clientKey = createHmac(hash, salted).update('Client Key').digest();
        this.credentials.set(this.key(user.db ?? 'admin', user.username, mechanism), {
          salt,
          iterations,
          storedKey: createHash(hash).update(clientKey).digest(),
          serverKey: createHmac(hash, salted).update('Server Key').digest()
        });
      }
    }
  }

  /** Answer one command like mongod would (only the auth-related commands are understood). */
  handleCommand(db: string, command: Document): Document {
    this.received.push({ db, command });
    if (command.saslStart !== undefined) return this.saslStart(db, command);
    if (command.saslContinue !== undefined) return this.saslContinue(command);
    if (command.hello !== undefined || command.isMaster !== undefined || command.ismaster !== undefined) {
      return { ok: 1, isWritablePrimary: true, maxWireVersion: 25, ...this.helloFields(command) };
    }
    return { ok: 0, code: 59, codeName: 'CommandNotFound', errmsg: `no such command: '${Object.keys(command)[0]}'` };
  }

  /** The auth-related fields a hello reply carries for this hello command. */
  helloFields(command: Document): Document {
    const fields: Document = {};
    if (typeof command.saslSupportedMechs === 'string') {
      const dot = command.saslSupportedMechs.indexOf('.');
      const db = command.saslSupportedMechs.slice(0, dot);
      const username = command.saslSupportedMechs.slice(dot + 1);
      const mechanisms = (['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const).filter(m => this.credentials.has(this.key(db, username, m)));
      if (mechanisms.length > 0) fields.saslSupportedMechs = mechanisms;
    }
    const speculative: unknown = command.speculativeAuthenticate;
    if (this.options.supportsSpeculativeAuthenticate !== false && speculative && typeof speculative === 'object') {
      const start = speculative as Document;
      if (start.saslStart !== undefined) {
        const reply = this.saslStart(typeof start.db === 'string' ? start.db : 'admin', start);
        if (reply.ok === 1) {
          const { ok: _ok, ...rest } = reply;
          fields.speculativeAuthenticate = rest;
        }
      }
    }
    return fields;
  }

  /** An AuthConnection backed by this server. */
  connection(address = 'scram-server:27017'): AuthConnection & { readonly commands: Document[] } {
    const commands: Document[] = [];
    return {
      address,
      commands,
      command: async (db: string, command: Document) => {
        commands.push(command);
        const reply = this.handleCommand(db, command);
        if (reply.ok !== 1) throw new MongoServerError(reply);
        return reply;
      }
    };
  }

  private key(db: string, username: string, mechanism: ScramServerMechanism): string {
    return `${mechanism}\0${db}\0${username}`;
  }

  private saslStart(db: string, command: Document): Document {
    const mechanism = command.mechanism as ScramServerMechanism;
    if (mechanism !== 'SCRAM-SHA-1' && mechanism !== 'SCRAM-SHA-256') {
      return { ok: 0, code: 2, codeName: 'BadValue', errmsg: `Unsupported mechanism ${String(command.mechanism)}` };
    }
    const clientFirst = bytesOf(command.payload).toString('utf8');
    if (!clientFirst.startsWith('n,,')) return { ok: 0, code: 17, codeName: 'ProtocolError', errmsg: 'bad GS2 header' };
    const clientFirstBare = clientFirst.slice(3);
    const attrs = attributes(clientFirstBare);
    const username = (attrs.get('n') ?? '').replace(/=2C/g, ',').replace(/=3D/g, '=');
    const clientNonce = attrs.get('r') ?? '';
    const stored = this.credentials.get(this.key(db, username, mechanism));
    if (!stored || !clientNonce) return AUTH_FAILED;

    const serverNonce = this.options.serverNonce?.() ?? randomBytes(24).toString('base64');
    const combinedNonce = this.options.nonceNotExtendingClient ? `x${serverNonce}` : clientNonce + serverNonce;
    const serverFirst = `r=${combinedNonce},s=${stored.salt.toString('base64')},i=${stored.iterations}`;
    const conversationId = this.nextConversationId++;
    const options: unknown = command.options;
    this.conversations.set(conversationId, {
      db,
      username,
      mechanism,
      clientFirstBare,
      serverFirst,
      combinedNonce,
      skipEmptyExchange: !!options && typeof options === 'object' && (options as Document).skipEmptyExchange === true,
      step: 'final'
    });
    return { conversationId, done: false, payload: new Binary(Buffer.from(serverFirst)), ok: 1 };
  }

  private saslContinue(command: Document): Document {
    const conversationId = Number(command.conversationId);
    const conversation = this.conversations.get(conversationId);
    if (!conversation) return { ok: 0, code: 17, codeName: 'ProtocolError', errmsg: 'No SASL session state found' };

    if (conversation.step === 'empty') {
      this.conversations.delete(conversationId);
      if (bytesOf(command.payload).length !== 0) return AUTH_FAILED;
      this.complete(conversation);
      return { conversationId, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
    }
    if (conversation.step !== 'final') return AUTH_FAILED;

    const clientFinal = bytesOf(command.payload).toString('utf8');
    const proofAt = clientFinal.lastIndexOf(',p=');
    const withoutProof = proofAt >= 0 ? clientFinal.slice(0, proofAt) : '';
    const attrs = attributes(clientFinal);
    const stored = this.credentials.get(this.key(conversation.db, conversation.username, conversation.mechanism));
    if (!stored || proofAt < 0 || attrs.get('c') !== 'biws' || attrs.get('r') !== conversation.combinedNonce) {
      this.conversations.delete(conversationId);
      return AUTH_FAILED;
    }
    const hash = hashOf(conversation.mechanism);
    const authMessage = `${conversation.clientFirstBare},${conversation.serverFirst},${withoutProof}`;
    const clientSignature = createHmac(hash, stored.storedKey).update(authMessage).digest();
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    if (proof.length !== clientSignature.length) {
      this.conversations.delete(conversationId);
      return AUTH_FAILED;
    }
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]));
    if (!timingSafeEqual(createHash(hash).update(clientKey).digest(), stored.storedKey)) {
      this.conversations.delete(conversationId);
      return AUTH_FAILED;
    }
    const serverSignature = createHmac(hash, stored.serverKey).update(authMessage).digest();
    if (this.options.tamperServerSignature) serverSignature[0] ^= 0xff;
    const payload = new Binary(Buffer.from(`v=${serverSignature.toString('base64')}`));

    if (conversation.skipEmptyExchange && this.options.supportsSkipEmptyExchange !== false) {
      this.conversations.delete(conversationId);
      this.complete(conversation);
      return { conversationId, done: true, payload, ok: 1 };
    }
    conversation.step = 'empty';
    return { conversationId, done: false, payload, ok: 1 };
  }

  private complete(conversation: Conversation): void {
    this.authenticated.push({ db: conversation.db, username: conversation.username, mechanism: conversation.mechanism });
  }
}
