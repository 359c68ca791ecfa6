/**
 * Motor's `MotorGridOutCursor`: a find over the files collection whose items are opened
 * `GridOut` objects (`bucket.findGridOut(filter, options)`). It is a `FindCursor`, so `sort`,
 * `skip`, `limit`, `next`, `toArray`, `for await` and `close` work as on any find cursor.
 */
import type { FindCursor } from '../cursor/find_cursor';
import type { GridFSFile } from './gridfs_file';
import type { GridOut } from './grid_out';

export type GridOutCursor = FindCursor<GridOut>;

/** Maps a files-collection cursor to GridOut objects. */
export function createGridOutCursor(files: FindCursor<GridFSFile>, toGridOut: (file: GridFSFile) => GridOut): GridOutCursor {
  return files.map(toGridOut);
}
