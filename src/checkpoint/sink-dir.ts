// A checkpoint directory: CRIU writes into a private temp dir next to DIR, which becomes DIR (with
// cryo.json, the completion marker) in one rename once everything is in place.
import { chmodSync, copyFileSync, constants, mkdirSync, mkdtempSync, openSync, closeSync, renameSync, rmdirSync, rmSync, fsyncSync, lstatSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { classifyDir, type DirKind } from './complete.js';
import { writeMeta } from './meta-file.js';
import { removeDeadTemps, tempDirPrefix } from './temp-names.js';
import type { CheckpointMeta } from './meta.js';
import type { CheckpointSink, SinkResult } from './sink.js';

export interface DirSinkOptions {
  /** replace a checkpoint already in DIR; default false */
  force?: boolean;
  /** with force: also replace a directory holding other files than a checkpoint; default false */
  forceNonCheckpoint?: boolean;
}

/** Makes the parent directories of `dir` (0700 for the ones it creates, whatever the umask). */
function makeParents(dir: string): void {
  const parent = dirname(dir);
  try {
    lstatSync(parent);
    return;
  } catch {
    // missing: create it and its own missing parents
  }
  makeParents(parent);
  try {
    mkdirSync(parent, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class DirSink implements CheckpointSink {
  readonly kind = 'dir';
  readonly wantsHashes = false;
  readonly dir: string;
  private tmp: string | undefined;
  private existing: DirKind = 'missing';

  constructor(dir: string, private readonly opts: DirSinkOptions = {}) {
    this.dir = resolve(dir);
  }

  async prepare(): Promise<{ imagesDir: string }> {
    const dir = this.dir;
    const kind = classifyDir(dir);
    if (kind === 'not-dir') throw new CryoError('EXISTS', `${dir} exists and is not a directory`, { hint: 'pass a new or empty directory to -D' });
    if (kind === 'other' && !(this.opts.force && this.opts.forceNonCheckpoint)) {
      throw new CryoError('EXISTS', `${dir} is not empty and holds no checkpoint`, {
        hint: 'pass a new or empty directory to -D (or --force --force-non-checkpoint to replace its contents)',
      });
    }
    if ((kind === 'checkpoint' || kind === 'incomplete') && !this.opts.force) {
      throw new CryoError('EXISTS', `${dir} already holds a checkpoint`, { hint: 'pass --force to replace it, or dump into another directory' });
    }
    this.existing = kind;
    try {
      makeParents(dir);
      removeDeadTemps(dirname(dir));
      // mkdtemp: a random name (with our pid, for the sweep above), mode 0700
      this.tmp = mkdtempSync(tempDirPrefix(dirname(dir), basename(dir)));
    } catch (e) {
      throw new CryoError('FAILED', `cannot write next to ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'pass a path in a writable directory to -D', cause: e,
      });
    }
    return { imagesDir: this.tmp };
  }

  async commit(meta: CheckpointMeta): Promise<SinkResult> {
    const tmp = this.tmp!;
    try {
      // CRIU creates its images 0644 (under umask 000, worse): a checkpoint is memory, so 0600
      for (const f of meta.files) chmodSync(join(tmp, f.name), 0o600);
      writeMeta(tmp, meta);
      fsyncDir(tmp);
      this.place(tmp);
      fsyncDir(dirname(this.dir));
    } catch (e) {
      throw new CryoError('FAILED', `cannot put the checkpoint into ${this.dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'check the directory and the free space, then dump again', cause: e,
      });
    }
    this.tmp = undefined;
    return { dir: this.dir };
  }

  /** Moves the finished temp dir into place; an old checkpoint is replaced only after that succeeded. */
  private place(tmp: string): void {
    const dir = this.dir;
    if (this.existing === 'missing') return renameSync(tmp, dir);
    if (this.existing === 'empty' || this.existing === 'failed') {
      rmSync(join(dir, 'dump.log'), { force: true });
      rmdirSync(dir);
      return renameSync(tmp, dir);
    }
    const old = `${tmp}-old`;
    renameSync(dir, old);
    renameSync(tmp, dir);
    rmSync(old, { recursive: true, force: true });
  }

  keepFailedLog(log: string): string | undefined {
    // DIR/dump.log, where CRIU users look, unless DIR holds something else: then DIR.dump-failed-XXXXXX/
    const dir = this.dir;
    try {
      const kind = classifyDir(dir);
      let target: string;
      // never into a directory another user owns (they could plant links there or read the log)
      const mine = kind === 'missing' || lstatSync(dir).uid === (process.geteuid?.() ?? 0);
      if (mine && (kind === 'missing' || kind === 'empty' || kind === 'failed')) {
        if (kind === 'failed') rmSync(join(dir, 'dump.log'));
        if (kind === 'missing') mkdirSync(dir, { mode: 0o700 });
        target = join(dir, 'dump.log');
      } else {
        target = join(mkdtempSync(join(dirname(dir), `.${basename(dir)}.dump-failed-`)), 'dump.log');
      }
      copyFileSync(log, target, constants.COPYFILE_EXCL);
      return target;
    } catch {
      return undefined;
    }
  }

  async abort(): Promise<void> {
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = undefined;
  }
}
