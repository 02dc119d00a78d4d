// One archive file: CRIU writes into a RAM staging dir; the archive is written under a random
// private name next to FILE (O_EXCL, 0600), fsync'ed, and renamed to FILE, so a complete archive
// is the only thing that ever carries the name.
import { randomBytes } from 'node:crypto';
import { constants, copyFileSync, existsSync, lstatSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { archiveBytes } from './archive-write.js';
import type { CheckpointMeta } from './meta.js';
import type { CheckpointSink, SinkCommitOptions, SinkResult } from './sink.js';
import { createStaging, stagingRootFor, type Staging } from './staging.js';

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
    return { imagesDir: await this.images.create(imageBytes) };
  }

  async commit(meta: CheckpointMeta, opts: SinkCommitOptions): Promise<SinkResult> {
    const part = join(dirname(this.path), `.${basename(this.path)}.cryo-${randomBytes(6).toString('hex')}`);
    let fh: FileHandle | undefined;
    let bytes = 0;
    try {
      fh = await open(part, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      for await (const chunk of archiveBytes(this.images.dir, meta, { ...opts, level: this.opts.level })) {
        await writeAll(fh, chunk);
        bytes += chunk.length;
      }
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(part, this.path);
      const d = await open(dirname(this.path), constants.O_RDONLY | constants.O_DIRECTORY);
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
      throw new CryoError('FAILED', `cannot write the archive ${this.path}: ${code ?? (e as Error).message}`, {
        hint: code === 'ENOSPC' ? 'the disk is full; free space or write elsewhere' : 'check the output path', cause: e,
      });
    } finally {
      await this.images.remove();
    }
    return { archive: this.path, bytes };
  }

  keepFailedLog(log: string): string | undefined {
    return keepLogCopy(log, dirname(this.path), basename(this.path));
  }

  async abort(): Promise<void> {
    await this.images.remove();
  }
}

/** Copies a failed run's log to a private new file `.NAME.dump-failed-XXXXXX.log` in `dir` (or the temp dir). */
export function keepLogCopy(log: string, dir: string, name: string): string | undefined {
  for (const d of [dir, tmpdir()]) {
    try {
      const target = join(mkdtempSync(join(d, `.${name}.dump-failed-`)), 'dump.log');
      copyFileSync(log, target, constants.COPYFILE_EXCL);
      return target;
    } catch {
      // next
    }
  }
  return undefined;
}
