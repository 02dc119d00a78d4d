// Decoding a whole image held in memory: the common case (plain entries or a pagemap) straight from the
// buffer, everything else through the framing parser. The types every part of the codec shares.
import { basename } from 'node:path';
import { Framer, options, parseImage, u32 } from './framing.js';
import { IMG_COMMON, IMG_SERVICE, MAGICS_BY_VALUE, isRawImageName } from './magic.js';
import { messageType } from './schema.js';
import { WireError, type Entry } from './wire.js';

/** A decoded image. See index.ts for the conventions of `entries`. */
export interface Image {
  /** crit's magic name, e.g. 'CORE', 'PAGEMAP', 'STATS'; 'RAW' for headerless images */
  magic: string;
  entries: Entry[];
  /**
   * The secondary magic found before the type magic (IMG_COMMON 0x54564319, IMG_SERVICE 0x55105940) or
   * null when there was none (inventory). The writer re-emits it; when absent, crit's rule applies.
   */
  secondaryMagic?: number | null;
  /** RAW images only: the whole file */
  raw?: Buffer;
}

export interface DecodeOptions {
  /** largest protobuf entry accepted, in bytes (default 64 MiB) */
  maxEntrySize?: number;
  /** largest raw payload accepted after an entry, in bytes (default 1 GiB) */
  maxPayloadSize?: number;
  /** file name used in error messages and to recognise raw images (pages-*.img, ...) */
  name?: string;
  /** treat the input as a raw image without looking at it */
  raw?: boolean;
  /**
   * Lean entries, for readers: 64-bit integers as numbers when they are safe integers (|v| < 2^53;
   * bigint beyond, exact), unknown fields dropped rather than kept. Not for re-encoding byte-exact.
   */
  lean?: boolean;
  /**
   * With `lean`: keep only these fields, nested ones by dotted path (`['vmas.start', 'exe_file_id']`);
   * a bare message name keeps it whole. Others are skipped unread (required ones must still be there);
   * raw payloads (`extra`) are kept. Names unknown to the image's entry types are a USAGE error.
   */
  fields?: readonly string[];
}

/**
 * The common case without the generator machinery: plain entries or a pagemap, whole buffer in memory.
 * Same checks and messages as parseImage; returns undefined when the image needs the general path.
 */
function decodeSimple(buf: Uint8Array, opts: DecodeOptions): Image | undefined {
  if (opts.raw || buf.length < 8 || isRawImageName(basename(opts.name ?? '<input>'))) return undefined;
  let pos = 0;
  let secondary: number | null = null;
  let value = u32(buf, 0);
  if (value === IMG_COMMON || value === IMG_SERVICE) {
    secondary = value;
    value = u32(buf, 4);
    pos = 8;
  } else pos = 4;
  const info = MAGICS_BY_VALUE.get(value);
  if (!info || (info.framing !== 'entries' && info.framing !== 'pagemap') || info.extra) return undefined;
  const fr = new Framer(opts.name ?? '<input>', options(opts), opts);
  fr.checkSelection(info);
  const pagemap = info.framing === 'pagemap';
  const first = pagemap ? messageType('pagemap_head') : messageType(info.message!);
  const rest = pagemap ? messageType('pagemap_entry') : first;
  const decodeFirst = fr.decoderOf(first);
  const decodeRest = fr.decoderOf(rest);
  const entries: Entry[] = [];
  const end = buf.length;
  const max = fr.opts.maxEntrySize;
  while (pos < end) {
    const at = pos;
    fr.index++;
    if (end - pos < 4) fr.fail(`truncated entry size: 4 bytes needed, ${end - pos} left`, at);
    const size = u32(buf, pos);
    pos += 4;
    if (size > 0x7fffffff) fr.fail(`negative entry size ${size | 0}`, at);
    if (size > max) fr.fail(`entry size ${size} exceeds the limit of ${max} bytes`, at);
    if (size > end - pos) fr.fail(`truncated entry: ${size} bytes declared: ${size} bytes needed, ${end - pos} left`, pos);
    const type = entries.length === 0 ? first : rest;
    try {
      entries.push((entries.length === 0 ? decodeFirst : decodeRest)(buf, pos, pos + size));
    } catch (e) {
      if (e instanceof WireError) fr.fail(`invalid protobuf ${type.name} (${e.message})`, e.offset, e);
      throw e;
    }
    pos += size;
  }
  return { magic: info.name, entries, secondaryMagic: secondary };
}

/** Decode a whole image held in memory. Throws CryoError BAD_IMAGE on malformed input. */
export function decodeImage(buf: Uint8Array, opts: DecodeOptions = {}): Image {
  const simple = decodeSimple(buf, opts);
  if (simple) return simple;
  const fr = new Framer(opts.name ?? '<input>', options(opts), opts);
  const img: Image = { magic: '', entries: [] };
  const gen = parseImage(fr, opts);
  let pos = 0;
  let input: Uint8Array | undefined;
  for (;;) {
    const r = gen.next(input!);
    if (r.done) break;
    const req = r.value;
    switch (req.t) {
      case 'read': {
        const end = Math.min(buf.length, pos + req.n);
        input = buf.subarray(pos, end);
        pos = end;
        break;
      }
      case 'rest':
        input = buf.subarray(pos);
        pos = buf.length;
        break;
      case 'head':
        img.magic = req.magic;
        img.secondaryMagic = req.secondary;
        input = undefined;
        break;
      case 'entry':
        img.entries.push(req.entry);
        input = undefined;
        break;
    }
  }
  if (img.magic === 'RAW') {
    img.raw = img.entries[0].extra as Buffer;
    img.entries = [];
    delete img.secondaryMagic;
  }
  return img;
}
