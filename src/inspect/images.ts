// One checkpoint directory as inspection sees it: decoded images by file name, cached, with a
// clear BAD_IMAGE error naming any required image that is missing.
import { existsSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { readImageBytes } from '../images/read-image.js';
import { decodeImageFile } from './decode.js';

/** Longest chain of incremental parents followed (CRIU's own chains are a handful deep). */
const MAX_PARENT_DEPTH = 64;

/** A decoded (lean) image entry: proto field names, 64-bit integers as numbers below 2^53 and bigints above, enums as numbers, bytes as Buffer. */
export type Entry = Record<string, any>;

export class ImageDir {
  readonly dir: string;
  private readonly cache = new Map<string, Entry[]>();
  private parentDir: ImageDir | null | undefined;
  /** real paths of this directory and its children down the chain, to refuse a parent loop */
  private chain: string[] = [];

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
    const where = isAbsolute(target) ? target : join(this.dir, target);
    let parent: ImageDir;
    try {
      parent = new ImageDir(where);
    } catch {
      throw new CryoError('BAD_IMAGE', `the parent checkpoint of ${this.dir} is missing: ${where} is not a directory`, {
        hint: 'an incremental checkpoint needs its parent (the checkpoint it was dumped against); copy it along', details: { dir: this.dir, parent: where },
      });
    }
    const chain = this.chain.length ? this.chain : [realpathSync(this.dir)];
    const real = realpathSync(parent.dir);
    if (chain.includes(real) || chain.length >= MAX_PARENT_DEPTH) {
      throw new CryoError('BAD_IMAGE', `the parent chain of ${this.dir} ${chain.includes(real) ? `loops back to ${real}` : `is deeper than ${MAX_PARENT_DEPTH}`}`, {
        hint: 'the parent link of an incremental checkpoint must point to an older checkpoint; fix or remove the parent link', details: { dir: this.dir, parent: real },
      });
    }
    parent.chain = [...chain, real];
    this.parentDir = parent;
    return this.parentDir;
  }

  /** Raw bytes of a small file (for tests and tools). */
  raw(name: string): Buffer {
    return readImageBytes(this.path(name));
  }
}

function missingImage(dir: string, name: string): CryoError {
  return new CryoError('BAD_IMAGE', `the checkpoint in ${dir} is missing ${name}`, {
    hint: 'the dump is incomplete or the directory is not a CRIU images directory; dump again',
    details: { dir, file: join(dir, name) },
  });
}
