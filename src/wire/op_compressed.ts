/**
 * OP_COMPRESSED (opCode 2012). zlib always; zstd when this Node's `node:zlib` has it;
 * snappy only when the optional `snappy` package is installed.
 */
import * as zlib from 'node:zlib';
import { MongoInvalidArgumentError, MongoProtocolError } from '../errors';
import { HEADER_SIZE, OpCode } from './constants';
import type { MessageHeader } from './message_header';

export type Compressor = 'snappy' | 'zlib' | 'zstd';

export const CompressorId = Object.freeze({ noop: 0, snappy: 1, zlib: 2, zstd: 3 } as const);

interface Codec {
  compress(data: Buffer, level?: number): Buffer;
  decompress(data: Buffer): Buffer;
}

type SyncFn = (data: Buffer) => Buffer;

function zstdCodec(): Codec | undefined {
  const z = zlib as unknown as { zstdCompressSync?: SyncFn; zstdDecompressSync?: SyncFn };
  const { zstdCompressSync, zstdDecompressSync } = z;
  if (typeof zstdCompressSync !== 'function' || typeof zstdDecompressSync !== 'function') return undefined;
  return { compress: (d) => zstdCompressSync(d), decompress: (d) => zstdDecompressSync(d) };
}

function snappyCodec(): Codec | undefined {
  try {
    // Optional peer: only used when the application installed it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const snappy = require('snappy') as { compressSync?: SyncFn; uncompressSync?: (d: Buffer, o?: { asBuffer: boolean }) => Buffer };
    const { compressSync, uncompressSync } = snappy;
    if (typeof compressSync !== 'function' || typeof uncompressSync !== 'function') return undefined;
    return { compress: (d) => compressSync(d), decompress: (d) => uncompressSync(d, { asBuffer: true }) };
  } catch {
    return undefined;
  }
}

const codecs: Partial<Record<Compressor, Codec>> = {
  zlib: {
    compress: (d, level) => zlib.deflateSync(d, level === undefined || level < 0 ? undefined : { level }),
    decompress: (d) => zlib.inflateSync(d)
  }
};
const zstd = zstdCodec();
if (zstd) codecs.zstd = zstd;
let snappyChecked = false;

function codecFor(name: Compressor): Codec | undefined {
  if (name === 'snappy' && !snappyChecked) {
    snappyChecked = true;
    const s = snappyCodec();
    if (s) codecs.snappy = s;
  }
  return codecs[name];
}

/** Compressors usable in this process, in preference order. */
export function availableCompressors(): Compressor[] {
  return (['zstd', 'zlib', 'snappy'] as const).filter((c) => codecFor(c) !== undefined);
}

/** Wraps a fully encoded message (header included) in OP_COMPRESSED. */
export function compressMessage(encoded: Buffer, compressor: Compressor, zlibLevel?: number): Buffer {
  const codec = codecFor(compressor);
  if (!codec) throw new MongoInvalidArgumentError(`compressor "${compressor}" is not available in this process`);
  const originalOpCode = encoded.readInt32LE(12);
  const payload = encoded.subarray(HEADER_SIZE);
  const compressed = codec.compress(payload, compressor === 'zlib' ? zlibLevel : undefined);
  const length = HEADER_SIZE + 9 + compressed.length;
  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  out.writeInt32LE(encoded.readInt32LE(4), 4);
  out.writeInt32LE(encoded.readInt32LE(8), 8);
  out.writeInt32LE(OpCode.OP_COMPRESSED, 12);
  out.writeInt32LE(originalOpCode, 16);
  out.writeInt32LE(payload.length, 20);
  out[24] = CompressorId[compressor];
  out.set(compressed, 25);
  return out;
}

/** Unwraps OP_COMPRESSED into the original message frame (header rebuilt). */
export function decompressMessage(frame: Buffer, header: MessageHeader, maxMessageSizeBytes: number): Buffer {
  if (frame.length < HEADER_SIZE + 9) throw new MongoProtocolError('OP_COMPRESSED: message too short');
  const originalOpCode = frame.readInt32LE(16);
  const uncompressedSize = frame.readInt32LE(20);
  const compressorId = frame[24];
  if (uncompressedSize < 0 || uncompressedSize + HEADER_SIZE > maxMessageSizeBytes) {
    throw new MongoProtocolError(`OP_COMPRESSED: invalid uncompressed size ${uncompressedSize}`);
  }
  const data = frame.subarray(25);
  let payload: Buffer;
  if (compressorId === CompressorId.noop) {
    payload = data;
  } else {
    const name = (Object.keys(CompressorId) as Array<keyof typeof CompressorId>).find((k) => CompressorId[k] === compressorId);
    const codec = name && name !== 'noop' ? codecFor(name) : undefined;
    if (!codec) throw new MongoProtocolError(`OP_COMPRESSED: unsupported compressor id ${compressorId}`);
    try {
      payload = codec.decompress(data);
    } catch (err) {
      throw new MongoProtocolError(`OP_COMPRESSED: ${name} decompression failed`, { cause: err });
    }
  }
  if (payload.length !== uncompressedSize) {
    throw new MongoProtocolError(`OP_COMPRESSED: uncompressed size ${payload.length} does not match header ${uncompressedSize}`);
  }
  const out = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  out.writeInt32LE(HEADER_SIZE + payload.length, 0);
  out.writeInt32LE(header.requestId, 4);
  out.writeInt32LE(header.responseTo, 8);
  out.writeInt32LE(originalOpCode, 12);
  out.set(payload, HEADER_SIZE);
  return out;
}
