/**
 * Incremental frame reader: feed it socket chunks, get whole messages back. Handles a message
 * split across many chunks and many messages in one chunk; a frame that arrives whole inside
 * one chunk is returned as a view of that chunk (no copy).
 */
import { MongoProtocolError } from '../errors';
import { DEFAULT_MAX_MESSAGE_SIZE_BYTES, HEADER_SIZE } from './constants';

export interface MessageReaderOptions {
  maxMessageSizeBytes?: number;
}

export class MessageReader {
  maxMessageSizeBytes: number;
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(options?: MessageReaderOptions) {
    this.maxMessageSizeBytes = options?.maxMessageSizeBytes ?? DEFAULT_MAX_MESSAGE_SIZE_BYTES;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Returns every complete frame now available. Throws MongoProtocolError on an impossible length. */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let data: Buffer;
    if (this.buffered === 0) {
      data = chunk;
    } else {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered < 4) return frames;
      const needed = this.peekLength();
      if (this.buffered < needed) return frames;
      data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    let offset = 0;
    while (data.length - offset >= 4) {
      const length = data.readInt32LE(offset);
      this.check(length);
      if (data.length - offset < length) break;
      frames.push(data.subarray(offset, offset + length));
      offset += length;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.chunks = [rest];
      this.buffered = rest.length;
    }
    return frames;
  }

  /** Forget any partial frame (after a connection error). */
  reset(): void {
    this.chunks = [];
    this.buffered = 0;
  }

  private peekLength(): number {
    const head = this.chunks[0].length >= 4 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const length = head.readInt32LE(0);
    this.check(length);
    return length;
  }

  private check(length: number): void {
    if (length < HEADER_SIZE) {
      this.reset();
      throw new MongoProtocolError(`invalid message length ${length}: shorter than the ${HEADER_SIZE}-byte header`);
    }
    if (length > this.maxMessageSizeBytes) {
      this.reset();
      throw new MongoProtocolError(`invalid message length ${length}: larger than maxMessageSizeBytes ${this.maxMessageSizeBytes}`);
    }
  }
}
