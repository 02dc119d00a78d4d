// One archive file: CRIU writes into a RAM staging dir; the archive is written under a random
// private name next to FILE (O_EXCL, 0600), fsync'ed, and renamed to FILE, so a complete archive
// is the only thing that ever carries the name.
import { constants, copyFileSync, existsSync, lstatSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { archiveBytes } from './archive-write.js';
import type { CheckpointMeta } from './meta.js';
import type { CheckpointSink, SinkCommitOptions, SinkResult } from './sink.js';
import { createStaging, stagingRootFor, type Staging } from './staging.js';
import { removeDeadTemps, tempFileName } from './temp-names.js';

export interface ArchiveSinkOptions {
  /** replace an existing archive file; default false */
  force?: boolean;
  /** zstd level 1..19; default 3 */
  level?: number;
}

async function writeAll(fh: FileHandle, b: Buffer): Promise<void> {
  let off = 0;
  while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
}

/** A staging dir for the images of a dump whose bytes go elsewhere (shared with the stream sink). */
export class StagedImages {
  private staging: Staging | undefined;
  async create(imageBytes: number): Promise<string> {
    this.staging = await createStaging('dump', stagingRootFor(imageBytes));
    return this.staging.dir;
  }
  get dir(): string {
    return this.staging!.dir;
  }
  async remove(): Promise<void> {
    await this.staging?.remove();
    this.staging = undefined;
  }
}

export class ArchiveSink implements CheckpointSink {
  readonly kind = 'archive';
  readonly wantsHashes = true;
  readonly path: string;
  private readonly images = new StagedImages();

  constructor(path: string, private readonly opts: ArchiveSinkOptions = {}) {
    this.path = resolve(path);
  }

  async prepare(imageBytes: number): Promise<{ imagesDir: string }> {
    const path = this.path;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      // new file
    }
    if (st?.isDirectory()) throw new CryoError('EXISTS', `${path} is a directory`, { hint: 'pass a file path to -o (or -D DIR for a checkpoint directory)' });
    if (st && !this.opts.force) throw new CryoError('EXISTS', `${path} already exists`, { hint: 'pass --force to replace it, or write to another file' });
    if (!existsSync(dirname(path))) {
      throw new CryoError('NOT_FOUND', `cannot write ${path}: ${dirname(path)} does not exist`, { hint: 'pass a path in an existing directory to -o' });
    }
    removeDeadTemps(dirname(path));
    return { imagesDir: await this.images.create(imageBytes) };
  }

  async commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult> {
    try {
      return { archive: this.path, bytes: await writeArchiveFile(this.images.dir, meta, this.path, { ...opts, level: this.opts.level }) };
    } finally {
      await this.images.remove();
    }
  }

  keepFailedLog(log: string): string | undefined {
    return keepLogCopy(log, dirname(this.path), basename(this.path));
  }

  async abort(): Promise<void> {
    await this.images.remove();
  }
}

/** Copies a failed run's log into a private new directory `.PREFIX.failed-XXXXXX/` in `dir` (else the temp dir). */
export function keepLogCopy(log: string, dir: string, prefix: string): string | undefined {
  for (const d of [dir, tmpdir()]) {
    try {
      const target = join(mkdtempSync(join(d, `.${prefix}.failed-`)), basename(log));
      copyFileSync(log, target, constants.COPYFILE_EXCL);
      return target;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Writes the archive of the images directory `dir` (described by `meta`, files with sha256s) to
 * `path`: under a random private name next to it (O_EXCL, 0600), fsync'ed, then renamed over
 * `path`. Returns the archive's size.
 */
export async function writeArchiveFile(dir: string, meta: CheckpointMeta, path: string, opts: SinkCommitOptions & { level?: number } = {}): Promise<number> {
  path = resolve(path);
  const part = tempFileName(dirname(path), basename(path));
  let fh: FileHandle | undefined;
  let bytes = 0;
  try {
    fh = await open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    for await (const chunk of archiveBytes(dir, meta, opts)) {
      await writeAll(fh, chunk);
      bytes += chunk.length;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(part, path);
    const d = await open(dirname(path), constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (e) {
    await fh?.close().catch(() => {});
    await rm(part, { force: true });
    if (e instanceof CryoError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new CryoError('FAILED', `cannot write the archive ${path}: ${code ?? (e as Error).message}`, {
      hint: code === 'ENOSPC' ? 'the disk is full; free space or write elsewhere' : 'check the output path', cause: e,
    });
  }
  return bytes;
}
