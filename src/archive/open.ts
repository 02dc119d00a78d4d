// openCheckpoint: inspection commands take a checkpoint directory or an archive alike.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { ARCHIVE_MAGIC, type ArchiveManifest } from './format.js';
import { extractArchive, readManifest, type ReadArchiveOptions } from './read.js';
import { createStaging, stagingRootFor } from './staging.js';

export interface OpenCheckpoint {
  /** an image directory to read */
  dir: string;
  /** the archive's manifest when the checkpoint was an archive */
  manifest?: ArchiveManifest;
  /** removes the temporary directory of an extracted archive (no-op for a directory) */
  close(): Promise<void>;
}

/** True when `path` is a regular file that starts with the archive magic. */
export function isArchiveFile(path: string): boolean {
  let fd: number | undefined;
  try {
    if (!statSync(path).isFile()) return false;
    fd = openSync(path, 'r');
    const b = Buffer.alloc(ARCHIVE_MAGIC.length);
    return readSync(fd, b, 0, b.length, 0) === b.length && b.equals(ARCHIVE_MAGIC);
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * A checkpoint directory as is, or an archive (a file, or '-' for stdin) verified and extracted
 * into a private 0700 staging directory that close() removes.
 */
export async function openCheckpoint(pathOrArchive: string, opts: ReadArchiveOptions = {}): Promise<OpenCheckpoint> {
  if (pathOrArchive !== '-') {
    let st;
    try {
      st = statSync(pathOrArchive);
    } catch {
      throw new CryoError('NOT_FOUND', `no such checkpoint: ${pathOrArchive}`, { hint: 'pass a checkpoint directory or an archive written by cryo dump -o' });
    }
    if (st.isDirectory()) return { dir: pathOrArchive, close: async () => {} };
    if (!isArchiveFile(pathOrArchive)) {
      throw new CryoError('BAD_ARCHIVE', `${pathOrArchive} is neither a checkpoint directory nor a cryo archive`, {
        hint: 'pass a directory written by cryo dump, or an archive written by cryo dump -o',
      });
    }
  }
  const size = pathOrArchive === '-' ? 0 : (await readManifest(pathOrArchive)).totalBytes;
  const staging = await createStaging('open', stagingRootFor(size));
  try {
    const report = await extractArchive(pathOrArchive, staging.dir, opts);
    return { dir: staging.dir, manifest: report.manifest, close: () => staging.remove() };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}
