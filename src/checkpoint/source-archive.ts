// An archive (a file or a stream such as stdin), verified and extracted into a private 0700 staging
// dir as it is read; only a fully verified copy is ever handed on.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { ARCHIVE_MAGIC } from './archive-format.js';
import { extractArchive, readArchiveMeta } from './archive-read.js';
import { writeMeta } from './meta-file.js';
import type { OpenedCheckpoint, OpenOptions } from './source.js';
import { createStaging, stagingRootFor } from './staging.js';

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

/** Opens an archive file (`path`) or stream (`stream`, named `name` in results). */
export async function openArchive(input: { path: string } | { stream: Readable | AsyncIterable<Uint8Array>; name?: string }, opts: OpenOptions = {}): Promise<OpenedCheckpoint> {
  const path = 'path' in input ? resolve(input.path) : undefined;
  // a file's manifest says how much room the images need; a stream cannot be read twice
  const size = path ? (await readArchiveMeta(path)).totalBytes : 0;
  const staging = await createStaging('open', stagingRootFor(size));
  try {
    const report = await extractArchive(path ?? (input as { stream: Readable }).stream, staging.dir, opts);
    writeMeta(staging.dir, report.meta);
    return {
      kind: 'archive',
      path: path ?? (input as { name?: string }).name ?? '-',
      dir: staging.dir,
      meta: report.meta,
      bytes: report.bytes,
      privateCopy: true,
      close: () => staging.remove(),
    };
  } catch (e) {
    await staging.remove();
    throw e;
  }
}
