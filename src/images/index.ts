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
 * are dropped, and `fields` may select what is kept (see DecodeOptions). Keys: the required fields in
 * field-number order, then the others as they come on the wire.
 *
 * Bad input throws CryoError code 'BAD_IMAGE' (exit 4) naming the file, offset and entry index;
 * a missing file CryoError 'NOT_FOUND' (exit 1) with the ENOENT error as `cause`.
 */
import { writeFileSync } from 'node:fs';
import type { Image } from './image.js';
import { encodeImage } from './image-encode.js';

export { decodeImage } from './image.js';
export { encodeImage } from './image-encode.js';
export { iterateEntries, iterateImage } from './image-stream.js';
export type { DecodeOptions, Image } from './image.js';
export type { ByteSource, ImageHeader } from './image-stream.js';
export { MAGICS, isRawImageName } from './magic.js';
export { UNKNOWN_FIELDS, type Entry } from './wire.js';
export { imageToJson, setJsonWriterForTests, type JsonOptions } from './json.js';
export { imageFromJson } from './json-to-image.js';
export { parseJson } from './json-parse.js';
export { stringifyJson } from './py-json.js';
export { readImage, readImageEntries, readImageLean } from './read-image.js';

/** Encode and write one image file. */
export function writeImage(path: string, img: Image): void {
  writeFileSync(path, encodeImage(img));
}
