/**
 * CRIU image codec: read, stream, and write every image file CRIU 4.2 writes.
 *
 * Conventions of `Image.entries` (plain objects, one per entry, in file order):
 * - keys are the proto field names (snake_case, e.g. `vm_pgoff`), in field-number order;
 * - only fields present on the wire are set (proto2 presence): an absent optional field is `undefined`,
 *   an empty repeated field is absent too (use `e.field ?? []`);
 * - 64-bit integers (int64, uint64, sint64, fixed64, sfixed64) are `bigint`, always, exact;
 *   32-bit integers are `number`; bools `boolean`; strings `string`; bytes `Buffer`;
 * - enums are numbers (the schema's value); crit's JSON (see json.ts) renders them by name;
 * - nested messages are objects, repeated fields arrays;
 * - PAGEMAP: entries[0] is the pagemap_head ({pages_id}), the rest are pagemap_entry;
 * - GHOST_FILE: entries[0] is the ghost_file_entry; with `chunks` the rest are ghost_chunk_entry;
 * - raw payloads that follow an entry are under the key `extra` (as crit names it):
 *   PIPES_DATA/FIFO_DATA, SK_QUEUES, BPFMAP_DATA, GHOST_FILE (chunk or whole file): Buffer;
 *   TCP_STREAM: {inq: Buffer, outq: Buffer}; IPCNS_SEM: number[] (u16 values);
 *   IPCNS_SHM: Buffer (absent when the entry says in_pagemaps: the pages are in pagemap/pages images);
 *   IPCNS_MSG: [ipc_msg, Buffer, ipc_msg, Buffer, ...] (crit's alternating layout);
 * - unknown fields are kept (under a symbol) so encoding gives the original bytes back;
 * - raw images (pages-*.img and other headerless files) decode as {magic: 'RAW', entries: [], raw}.
 *   KDAT (a C struct cache) decodes as one entry {extra: Buffer}.
 *
 * Lean entries (`lean: true`, readImageLean, readImageEntries), for readers: the same, except that
 * 64-bit integers are numbers when they are safe integers (bigint beyond 2^53, exact), unknown fields
 * are dropped, and `fields` may select what is kept (see DecodeOptions). Keys follow the wire order.
 *
 * Bad input throws CryoError code 'BAD_IMAGE' (exit 4) naming the file, offset and entry index;
 * a missing file CryoError 'NOT_FOUND' (exit 1) with the ENOENT error as `cause`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { decodeImage, encodeImage, type DecodeOptions, type Image } from './image.js';
import type { Entry } from './wire.js';

export { decodeImage, encodeImage } from './image.js';
export { iterateEntries, iterateImage } from './image-stream.js';
export type { DecodeOptions, Image } from './image.js';
export type { ByteSource, ImageHeader } from './image-stream.js';
export { IMG_COMMON, IMG_SERVICE, MAGICS, MAGICS_BY_VALUE, isRawImageName, type MagicInfo } from './magic.js';
export { UNKNOWN_FIELDS, type Entry } from './wire.js';
export { imageToJson, imageToJsonBuffer, setJsonWriterForTests, imageFromJson, parseJson, stringifyJson, type JsonOptions } from './json.js';

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

/** Encode and write one image file. */
export function writeImage(path: string, img: Image): void {
  writeFileSync(path, encodeImage(img));
}
