// Decoding a whole image held in memory: the common case (plain entries or a pagemap) straight from the
// buffer, everything else through the framing parser. The types every part of the codec shares.
import { basename } from 'node:path';
import { Framer, options, parseImage, u32 } from './framing.js';
import { IMG_COMMON, IMG_SERVICE, MAGICS_BY_VALUE, isRawImageName } from './magic.js';
import { messageType } from './schema.js';
import type { DecodeOptions, Image } from './types.js';
import { WireError, type Entry } from './wire.js';

export type { DecodeOptions, Image } from './types.js';

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
