// One checkpoint directory as inspection sees it: decoded images by file name, cached, with a
// clear BAD_IMAGE error naming any required image that is missing.
import { existsSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { decodeImageFile } from './decode.js';

/** A decoded (lean) image entry: proto field names, 64-bit integers as numbers below 2^53 and bigints above, enums as numbers, bytes as Buffer. */
export type Entry = Record<string, any>;

export class ImageDir {
  readonly dir: string;
  private readonly cache = new Map<string, Entry[]>();
  private parentDir: ImageDir | null | undefined;

  constructor(dir: string) {
    this.dir = resolve(dir);
    if (!existsSync(this.dir) || !statSync(this.dir).isDirectory()) {
      throw new CryoError('NOT_FOUND', `no checkpoint directory at ${dir}`, {
        hint: 'pass the images directory that criu dump (or cryo dump) wrote',
        details: { dir: this.dir },
      });
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  has(name: string): boolean {
    return existsSync(this.path(name));
  }

  /** Entries of an image, or a BAD_IMAGE error naming the missing file. */
  entries(name: string): Entry[] {
    let got = this.cache.get(name);
    if (got) return got;
    if (!this.has(name)) throw missingImage(this.dir, name);
    got = decodeImageFile(this.path(name));
    this.cache.set(name, got);
    return got;
  }

  /** Entries of an image that may legitimately be absent (undefined then). */
  optional(name: string): Entry[] | undefined {
    return this.has(name) ? this.entries(name) : undefined;
  }

  /** The first entry of a one-entry image (core, mm, fs, ids). */
  first(name: string): Entry {
    const e = this.entries(name)[0];
    if (!e) throw new CryoError('BAD_IMAGE', `${name} in ${this.dir} has no entries`, { hint: 'the checkpoint is truncated or damaged', details: { file: this.path(name) } });
    return e;
  }

  /** The parent checkpoint of an incremental dump (the `parent` symlink), or null. */
  parent(): ImageDir | null {
    if (this.parentDir !== undefined) return this.parentDir;
    const link = this.path('parent');
    if (!existsSync(link)) return (this.parentDir = null);
    let target: string;
    try {
      target = readlinkSync(link);
    } catch {
      target = link;
    }
    this.parentDir = new ImageDir(isAbsolute(target) ? target : join(this.dir, target));
    return this.parentDir;
  }

  /** Raw bytes of a small file (for tests and tools). */
  raw(name: string): Buffer {
    return readFileSync(this.path(name));
  }
}

export function missingImage(dir: string, name: string): CryoError {
  return new CryoError('BAD_IMAGE', `the checkpoint in ${dir} is missing ${name}`, {
    hint: 'the dump is incomplete or the directory is not a CRIU images directory; dump again',
    details: { dir, file: join(dir, name) },
  });
}
