// Reading image files: whole, lean, or the checked entries of a small image. Apart from index.ts so
// readers (inspection, stats, pstree) load the decoding half of the codec only.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { decodeImage, type DecodeOptions, type Image } from './image.js';
import type { Entry } from './wire.js';

/** Largest image file read whole (the biggest real images, mm and pagemap of huge trees, are a few MiB). */
const MAX_IMAGE_FILE = 1 << 30;

/** Read and decode one image file. */
export function readImage(path: string, opts: DecodeOptions = {}): Image {
  return decodeImage(readImageBytes(path), { name: path, ...opts });
}

/** The bytes of an image file: a regular file only (a FIFO or device would block or never end), bounded in size. */
export function readImageBytes(path: string, max = MAX_IMAGE_FILE): Buffer {
  let fd: number;
  try {
    // O_NONBLOCK: opening a planted FIFO must not wait for a writer
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(path, e);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new CryoError('BAD_IMAGE', `${path} is not a regular file`, {
        hint: 'the checkpoint is damaged or was tampered with: an image must be a plain file; use a complete copy or dump again', details: { file: path },
      });
    }
    if (st.size > max) {
      throw new CryoError('BAD_IMAGE', `${path} has ${st.size} bytes, more than the ${max} an image may have`, {
        hint: 'the file is not a CRIU image or the checkpoint is damaged', details: { file: path, size: st.size },
      });
    }
    try {
      return readFileSync(fd);
    } catch (e) {
      throw unreadable(path, e);
    }
  } finally {
    closeSync(fd);
  }
}

function unreadable(path: string, e: unknown): CryoError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CryoError('NOT_FOUND', `cannot read ${path}: ENOENT`, { hint: 'check the path to the image file', cause: e });
  if (code === 'EACCES' || code === 'EPERM') return new CryoError('FAILED', `cannot read ${path}: ${code}`, { hint: 'check the file permissions', cause: e });
  return new CryoError('BAD_IMAGE', `cannot read ${path}: ${code ?? (e as Error).message}`, { hint: 'the checkpoint is damaged; use a complete copy or dump again', cause: e, details: { file: path } });
}

/** Read and decode one image file into lean entries (see DecodeOptions.lean and .fields). */
export function readImageLean(path: string, opts: Omit<DecodeOptions, 'lean'> = {}): Image {
  return readImage(path, { ...opts, lean: true });
}

export interface ReadEntriesOptions extends Omit<DecodeOptions, 'lean'> {
  /** the magic the image must carry (crit's name: 'STATS', 'PSTREE', 'INVENTORY'); BAD_IMAGE otherwise */
  magic?: string;
}

/** The lean entries of a small image (pstree.img, stats-dump, inventory.img), checking its magic. */
export function readImageEntries(path: string, opts: ReadEntriesOptions = {}): Entry[] {
  const { magic, ...rest } = opts;
  const img = readImageLean(path, rest);
  if (magic !== undefined && img.magic !== magic) {
    throw new CryoError('BAD_IMAGE', `${path}: expected a ${magic} image, found ${img.magic === 'RAW' ? 'no image magic' : img.magic}`, {
      hint: 'the checkpoint is damaged or the file is not the image its name says; dump again',
      details: { file: path, expected: magic, found: img.magic },
    });
  }
  return img.entries;
}
