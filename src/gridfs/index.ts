/** GridFS: the bucket, its streams, Motor's GridIn/GridOut, and the HTTP handler. */
export { GridFSBucket } from './bucket';
export type { GridFSBucketOptions, GridFSUploadSource, GridFSCallOptions } from './bucket';
export { GridFSBucketWriteStream } from './upload';
export type { GridFSUploadOptions } from './upload';
export { GridFSBucketReadStream } from './download';
export type { GridFSDownloadOptions, GridFSDownloadByNameOptions } from './download';
export { GridIn } from './grid_in';
export { GridOut, SEEK_SET, SEEK_CUR, SEEK_END } from './grid_out';
export type { GridOutCursor } from './grid_out_cursor';
export type { GridFSFile, GridFSChunk, GridFSFileId } from './gridfs_file';
export { DEFAULT_CHUNK_SIZE_BYTES } from './gridfs_file';
export { createGridFSHandler, parseRange } from './http_handler';
export type { GridFSHandlerBucket, GridFSHandlerOptions, GridFSRequestHandler, NextFunction, ByteRange } from './http_handler';
