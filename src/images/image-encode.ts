// Encoding an image to its on-disk bytes: the secondary magic as the reader found it (crit's rule when
// unknown), the type magic, then u32 size + message per entry and each payload through its handler.
import { CryoError } from '../errors.js';
import type { Image } from './image.js';
import { defaultSecondaryMagic, MAGICS } from './magic.js';
import { PAYLOADS, type PayloadOutput } from './payloads.js';
import { messageType, type MessageType } from './schema.js';
import { encodeMessageInto, EncodeError, Writer, type Entry } from './wire.js';

function badInput(msg: string, cause?: unknown): CryoError {
  return new CryoError('BAD_IMAGE', msg, { hint: 'fix the image description (field names and types as `cryo decode` prints them)', cause });
}

function bytesOf(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new EncodeError('expected bytes', path);
}

/** A u32 size, then the message (EncodeError when the entry does not fit its schema). */
function writeEntry(w: Writer, type: MessageType, e: Entry, path: string): void {
  const sizeAt = w.len;
  w.u32le(0);
  encodeMessageInto(w, type, e, path);
  w.buf.writeUInt32LE(w.len - sizeAt - 4, sizeAt);
}

/** Encode an image to its on-disk bytes. Throws CryoError BAD_IMAGE when the entries do not fit the schema. */
export function encodeImage(img: Image): Buffer {
  try {
    return encodeFrames(img);
  } catch (err) {
    if (err instanceof EncodeError) throw badInput(`cannot encode ${err.message}`, err);
    throw err;
  }
}

function encodeFrames(img: Image): Buffer {
  if (img.magic === 'RAW') return Buffer.from(img.raw ?? Buffer.alloc(0));
  const info = MAGICS.get(img.magic);
  if (!info) throw badInput(`unknown magic name ${JSON.stringify(img.magic)}`);
  if (!Array.isArray(img.entries)) throw badInput('entries: expected an array');
  const w = new Writer(4096);
  const secondary = img.secondaryMagic === undefined ? defaultSecondaryMagic(info.name) : img.secondaryMagic;
  if (secondary !== null) w.u32le(secondary);
  w.u32le(info.value);
  const entries = img.entries;
  const check = (e: unknown, i: number): Entry => {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw badInput(`entries[${i}]: expected an object`);
    return e as Entry;
  };
  if (info.framing === 'blob') {
    for (let i = 0; i < entries.length; i++) w.raw(bytesOf(check(entries[i], i).extra, `entries[${i}].extra`));
    return Buffer.from(w.result());
  }
  if (info.framing === 'pagemap') {
    const head = messageType('pagemap_head');
    const pe = messageType('pagemap_entry');
    entries.forEach((e, i) => writeEntry(w, i === 0 ? head : pe, check(e, i), `entries[${i}]`));
    return Buffer.from(w.result());
  }
  if (info.framing === 'ghost') {
    if (entries.length === 0) return Buffer.from(w.result());
    const g = check(entries[0], 0);
    writeEntry(w, messageType('ghost_file_entry'), g, 'entries[0]');
    if (g.chunks === true) {
      const ct = messageType('ghost_chunk_entry');
      for (let i = 1; i < entries.length; i++) {
        const c = check(entries[i], i);
        writeEntry(w, ct, c, `entries[${i}]`);
        if (c.extra !== undefined) w.raw(bytesOf(c.extra, `entries[${i}].extra`));
      }
    } else if (g.extra !== undefined) w.raw(bytesOf(g.extra, 'entries[0].extra'));
    return Buffer.from(w.result());
  }
  const mt = messageType(info.message!);
  const out: PayloadOutput = { raw: (b) => w.raw(b), message: (type, e, path) => writeEntry(w, type, e, path) };
  for (let i = 0; i < entries.length; i++) {
    const e = check(entries[i], i);
    writeEntry(w, mt, e, `entries[${i}]`);
    if (info.extra) PAYLOADS[info.extra].write(out, e, `entries[${i}]`);
  }
  return Buffer.from(w.result());
}
