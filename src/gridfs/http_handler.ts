/**
 * Serving GridFS files over HTTP: the Node counterpart of Motor's `GridFSHandler` (Tornado) and
 * `AIOHTTPGridFS` (aiohttp).
 *
 * `createGridFSHandler(bucket, options)` returns a function that is both a `node:http` request
 * listener (`http.createServer(handler)`) and an Express/Connect-style middleware
 * (`app.use('/files', handler)`: requests outside `root` go to `next()`; errors go to `next(err)`).
 * With Fastify: `reply.hijack(); await handler(request.raw, reply.raw)`.
 *
 * Behaviour, per request:
 * - GET and HEAD only (anything else: 405 with `Allow: GET, HEAD`). The file name is the
 *   URL-decoded path after `root`; the newest revision is served (override `getGridFSFile`).
 *   No file: 404.
 * - `Content-Type` from the files document's `contentType`, else `metadata.contentType`, else the
 *   file name's extension, else `application/octet-stream`.
 * - `Last-Modified` (the upload date), `ETag` (the stored `md5` when there is one, else a hash of
 *   id, length and upload date), `Accept-Ranges: bytes`.
 * - `If-None-Match` (takes precedence) / `If-Modified-Since` → 304.
 * - `getCacheTime(filename, modified, mimeType)`: > 0 sets `Cache-Control: public, max-age=N` and
 *   `Expires`; 0 (the default) sets neither.
 * - `setExtraHeaders(response, file)` runs after the standard headers (also for 304 and HEAD).
 * - gzip-stored files — files documents with `metadata.compressed === 'gzip'` or a top-level
 *   `contentEncoding: 'gzip'` — are sent as stored with `Content-Encoding: gzip` to clients that
 *   accept gzip, and gunzipped on the fly for the others (no `Content-Length` then, no ranges,
 *   and an ETag of their own). Both variants send `Vary: Accept-Encoding`.
 * - A single byte range (`Range: bytes=a-b`, `a-`, `-n`) → 206 with `Content-Range`; an
 *   unsatisfiable one → 416 with `Content-Range: bytes *\/length`; several ranges or a malformed
 *   header → the whole file (200), as RFC 9110 allows. `If-Range` is honoured.
 * - The body is piped chunk by chunk from the download stream (backpressure respected: memory
 *   stays flat whatever the file size); a client that goes away stops the download.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { EJSON } from 'bson';
import type { GridFSFile, GridFSFileId } from './gridfs_file';
import { DEFAULT_MIME_TYPE, mimeTypeForFilename } from './mime_types';

/** What the handler needs from a bucket (GridFSBucket implements it; tests use fakes). */
export interface GridFSHandlerBucket {
  /** The files document of `filename` (newest revision by default), or null. */
  findFileByName(filename: string): Promise<GridFSFile | null>;
  /** The file's bytes in `[start, end)`. */
  openDownloadStream(id: GridFSFileId, options?: { start?: number; end?: number }): Readable;
}

export interface GridFSHandlerOptions<TBucket extends GridFSHandlerBucket = GridFSHandlerBucket> {
  /** URL prefix the handler serves (default `/`); requests outside it go to `next()` or get 404. */
  root?: string;
  /**
   * Finds the files document to serve (Motor's `get_gridfs_file`). Default: the newest revision
   * of `filename`. Return null (or throw a file-not-found error) for 404.
   */
  getGridFSFile?(bucket: TBucket, filename: string, request: IncomingMessage): Promise<GridFSFile | null>;
  /** Seconds the client may cache the file (Motor's `get_cache_time`); 0 (default): no caching headers. */
  getCacheTime?(filename: string, modified: Date, mimeType: string): number;
  /** Adds headers of your own (Motor's `set_extra_headers`). */
  setExtraHeaders?(response: ServerResponse, file: GridFSFile): void;
}

export type NextFunction = (error?: unknown) => void;

/** A `node:http` request listener and a Connect/Express middleware. */
export type GridFSRequestHandler = (request: IncomingMessage, response: ServerResponse, next?: NextFunction) => Promise<void>;

const ALLOWED_METHODS = 'GET, HEAD';

export function createGridFSHandler<TBucket extends GridFSHandlerBucket>(
  bucket: TBucket,
  options: GridFSHandlerOptions<TBucket> = {}
): GridFSRequestHandler {
  const root = normalizeRoot(options.root ?? '/');
  const getFile = options.getGridFSFile ?? ((b: TBucket, filename: string) => b.findFileByName(filename));
  const getCacheTime = options.getCacheTime ?? (() => 0);

  return async function gridFSHandler(request, response, next) {
    try {
      const path = (request.url ?? '/').split('?')[0];
      if (!path.startsWith(root)) {
        if (next) next();
        else sendStatus(request, response, 404, 'Not Found');
        return;
      }
      const method = request.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        response.setHeader('Allow', ALLOWED_METHODS);
        sendStatus(request, response, 405, 'Method Not Allowed');
        return;
      }
      let filename: string;
      try {
        filename = decodeURIComponent(path.slice(root.length));
      } catch {
        sendStatus(request, response, 400, 'Bad Request');
        return;
      }
      const file = filename === '' ? null : await findFile(() => getFile(bucket, filename, request));
      if (!file) {
        sendStatus(request, response, 404, 'Not Found');
        return;
      }
      await serveFile(bucket, file, filename, request, response, { getCacheTime, setExtraHeaders: options.setExtraHeaders });
    } catch (error) {
      if (response.headersSent) {
        response.destroy(error instanceof Error ? error : undefined);
      } else if (next) {
        next(error);
      } else {
        sendStatus(request, response, 500, 'Internal Server Error');
      }
    }
  };
}

async function findFile(find: () => Promise<GridFSFile | null>): Promise<GridFSFile | null> {
  try {
    return await find();
  } catch (error) {
    if (isFileNotFound(error)) return null;
    throw error;
  }
}

/** Bucket errors for a missing file carry `code: 'ENOENT'` (as the official driver's do). */
function isFileNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

interface ServeHooks {
  getCacheTime(filename: string, modified: Date, mimeType: string): number;
  setExtraHeaders?(response: ServerResponse, file: GridFSFile): void;
}

async function serveFile(
  bucket: GridFSHandlerBucket,
  file: GridFSFile,
  filename: string,
  request: IncomingMessage,
  response: ServerResponse,
  hooks: ServeHooks
): Promise<void> {
  const storedGzip = isStoredGzip(file);
  const gunzip = storedGzip && !acceptsGzip(request.headers['accept-encoding']);
  const mimeType = contentTypeOf(file, filename);
  const modified = new Date(Math.floor(file.uploadDate.getTime() / 1000) * 1000);
  const etag = gunzip ? entityTag(file, '-identity') : entityTag(file, '');

  response.setHeader('Content-Type', mimeType);
  response.setHeader('Last-Modified', modified.toUTCString());
  response.setHeader('ETag', etag);
  response.setHeader('Accept-Ranges', gunzip ? 'none' : 'bytes');
  if (storedGzip) response.setHeader('Vary', 'Accept-Encoding');
  if (storedGzip && !gunzip) response.setHeader('Content-Encoding', 'gzip');
  const cacheTime = hooks.getCacheTime(filename, modified, mimeType);
  if (cacheTime > 0) {
    response.setHeader('Cache-Control', `public, max-age=${Math.floor(cacheTime)}`);
    response.setHeader('Expires', new Date(Date.now() + cacheTime * 1000).toUTCString());
  }
  hooks.setExtraHeaders?.(response, file);

  if (notModified(request, etag, modified)) {
    for (const name of ['Content-Type', 'Content-Encoding', 'Accept-Ranges']) response.removeHeader(name);
    response.statusCode = 304;
    response.end();
    return;
  }

  const length = file.length;
  const range = gunzip || !rangeApplies(request, etag, modified) ? RANGE_NONE : parseRange(request.headers.range, length);
  if (range.kind === 'unsatisfiable') {
    response.removeHeader('Content-Encoding');
    response.setHeader('Content-Range', `bytes */${length}`);
    sendStatus(request, response, 416, 'Range Not Satisfiable');
    return;
  }

  let start = 0;
  let end = length;
  if (range.kind === 'range') {
    start = range.start;
    end = range.end + 1;
    response.statusCode = 206;
    response.setHeader('Content-Range', `bytes ${start}-${range.end}/${length}`);
  } else {
    response.statusCode = 200;
  }
  if (!gunzip) response.setHeader('Content-Length', end - start);

  if (request.method === 'HEAD' || end === start) {
    response.end();
    return;
  }
  const download = bucket.openDownloadStream(file._id, range.kind === 'range' ? { start, end } : undefined);
  try {
    if (gunzip) await pipeline(download, createGunzip(), response);
    else await pipeline(download, response);
  } catch (error) {
    // The client went away (the pipeline already stopped the download), or the download failed
    // mid-body: the connection is destroyed, there is nothing more to tell the client.
    if (!response.headersSent && !response.destroyed) throw error;
    response.destroy();
  }
}

function sendStatus(request: IncomingMessage, response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  const body = `${status} ${text}\n`;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(body);
}

function normalizeRoot(root: string): string {
  let r = root.startsWith('/') ? root : `/${root}`;
  if (!r.endsWith('/')) r += '/';
  return r;
}

/** The files document says the stored bytes are gzip-compressed. */
export function isStoredGzip(file: GridFSFile): boolean {
  return file.metadata?.compressed === 'gzip' || file.contentEncoding === 'gzip';
}

function contentTypeOf(file: GridFSFile, filename: string): string {
  if (typeof file.contentType === 'string' && file.contentType) return file.contentType;
  const fromMetadata = file.metadata?.contentType;
  if (typeof fromMetadata === 'string' && fromMetadata) return fromMetadata;
  return mimeTypeForFilename(filename) ?? DEFAULT_MIME_TYPE;
}

/** A quoted strong entity tag: the stored md5, else a hash of id, length and upload date. */
function entityTag(file: GridFSFile, suffix: string): string {
  if (typeof file.md5 === 'string' && /^[0-9a-fA-F]+$/.test(file.md5)) return `"${file.md5}${suffix}"`;
  const hash = createHash('sha256')
    .update(EJSON.stringify({ id: file._id, length: file.length, uploadDate: file.uploadDate.getTime() }))
    .digest('base64url')
    .slice(0, 27);
  return `"${hash}${suffix}"`;
}

/** Strips `W/` and the quotes: If-None-Match uses the weak comparison. */
function opaqueTag(tag: string): string {
  let t = tag.trim();
  if (t.startsWith('W/')) t = t.slice(2);
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1);
  return t;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function notModified(request: IncomingMessage, etag: string, modified: Date): boolean {
  const ifNoneMatch = headerValue(request.headers['if-none-match']);
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() === '*') return true;
    const ours = opaqueTag(etag);
    return ifNoneMatch.split(',').some((tag) => opaqueTag(tag) === ours);
  }
  const ifModifiedSince = headerValue(request.headers['if-modified-since']);
  if (ifModifiedSince === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  return !Number.isNaN(since) && modified.getTime() <= since;
}

/** `If-Range`: the range applies only if the validator still matches (strong comparison for tags). */
function rangeApplies(request: IncomingMessage, etag: string, modified: Date): boolean {
  const ifRange = headerValue(request.headers['if-range']);
  if (ifRange === undefined) return true;
  const value = ifRange.trim();
  if (value.startsWith('"') || value.startsWith('W/')) return value === etag;
  const date = Date.parse(value);
  return !Number.isNaN(date) && date === modified.getTime();
}

function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = headerValue(header);
  if (!value) return false;
  let gzip: number | undefined;
  let star: number | undefined;
  for (const part of value.split(',')) {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') gzip = q;
    else if (coding.trim() === '*') star = q;
  }
  return (gzip ?? star ?? 0) > 0;
}

export type ByteRange =
  | { kind: 'none' }
  | { kind: 'unsatisfiable' }
  /** `end` is inclusive, as in `Content-Range`. */
  | { kind: 'range'; start: number; end: number };

const RANGE_NONE: ByteRange = { kind: 'none' };

/**
 * Parses a `Range` header for a representation of `length` bytes. Only a single `bytes` range is
 * served; several ranges, other units or a malformed header give `none` (send the whole file).
 */
export function parseRange(header: string | undefined, length: number): ByteRange {
  if (header === undefined) return RANGE_NONE;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return RANGE_NONE;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || length === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, length - suffix), end: length - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? Infinity : Number(m[2]);
  if (end < start) return RANGE_NONE;
  if (start >= length) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, length - 1) };
}
