// Reading image files: whole, lean, or the checked entries of a small image. Apart from index.ts so
// readers (inspection, stats, pstree) load the decoding half of the codec only.
import { readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { decodeImage, type DecodeOptions, type Image } from './image.js';
import type { Entry } from './wire.js';

/** Read and decode one image file. */
export function readImage(path: string, opts: DecodeOptions = {}): Image {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot read ${path}: ${err.code ?? err.message}`, {
      hint: err.code === 'ENOENT' ? 'check the path to the image file' : 'check the file permissions',
      cause: e,
    });
  }
  return decodeImage(buf, { name: path, ...opts });
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
