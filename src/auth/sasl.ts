/**
 * The generic SASL command shapes MongoDB uses (`saslStart` / `saslContinue`) and payload decoding.
 * Payloads are sent as BinData subtype 0; replies carry BinData or, from some servers, base64 text.
 */
import { Binary, type Document } from 'bson';
import { MongoUnexpectedServerResponseError } from '../errors';

export interface SaslStartOptions {
  /** Extra top-level fields (e.g. `options: { skipEmptyExchange: true }`). */
  extra?: Document;
}

export function saslStartCommand(mechanism: string, payload: Uint8Array, options: SaslStartOptions = {}): Document {
  return { saslStart: 1, mechanism, payload: new Binary(payload), autoAuthorize: 1, ...options.extra };
}

export function saslContinueCommand(conversationId: unknown, payload: Uint8Array): Document {
  return { saslContinue: 1, conversationId, payload: new Binary(payload) };
}

/** The bytes of a reply's `payload` field (BinData, raw bytes or base64 text). */
export function payloadBytes(reply: Document): Uint8Array {
  const payload: unknown = reply.payload;
  if (payload instanceof Binary) return payload.value();
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === 'string') return Buffer.from(payload, 'base64');
  // Duck-typed Binary from another bson copy.
  if (payload !== null && typeof payload === 'object' && typeof (payload as { value?: unknown }).value === 'function') {
    const value = (payload as { value(): unknown }).value();
    if (value instanceof Uint8Array) return value;
  }
  throw new MongoUnexpectedServerResponseError('SASL reply has no usable payload');
}
