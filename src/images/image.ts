// Image framing: magic(s), then u32 size + message entries, plus the raw payloads some types carry.
// One parser (a generator that asks for bytes) serves both whole-buffer decoding and streaming.
import { basename } from 'node:path';
import { CryoError } from '../errors.js';
import { CRTOOLS_IMAGES_V1_1, IMG_COMMON, IMG_SERVICE, MAGICS, MAGICS_BY_VALUE, defaultSecondaryMagic, isRawImageName, type MagicInfo } from './magic.js';
import { checkSelection, compileSelection, leanDecoderOf, type FieldSelection } from './lean.js';
import { messageType, type MessageType } from './schema.js';
import { decodeMessage, encodeMessageInto, EncodeError, WireError, Writer, type Entry } from './wire.js';

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

/** Decodes one protobuf message in buf[start, end); throws WireError with offsets in buf. */
type MessageDecoder = (buf: Uint8Array, start: number, end: number) => Entry;

/** The decoder of each message type for these options (full or lean), resolved once per type. */
function messageDecoders(opts: DecodeOptions): { decoderOf: (type: MessageType) => MessageDecoder; selection?: FieldSelection } {
  const cache = new Map<MessageType, MessageDecoder>();
  if (!opts.lean) {
    if (opts.fields) throw new CryoError('USAGE', 'decoding: `fields` needs `lean: true`', { hint: 'select fields only for lean entries' });
    const decoderOf = (type: MessageType): MessageDecoder => {
      let d = cache.get(type);
      if (!d) cache.set(type, (d = (buf, start, end) => decodeMessage(type, buf, start, end)));
      return d;
    };
    return { decoderOf };
  }
  const selection = opts.fields ? compileSelection(opts.fields) : undefined;
  const decoderOf = (type: MessageType): MessageDecoder => {
    let d = cache.get(type);
    if (!d) cache.set(type, (d = leanDecoderOf(type, selection)));
    return d;
  };
  return { decoderOf, selection };
}

/** The message types of an image's entries (what a field selection is checked against). */
function entryTypes(info: MagicInfo): MessageType[] {
  if (info.framing === 'pagemap') return [messageType('pagemap_head'), messageType('pagemap_entry')];
  if (info.framing === 'ghost') return [messageType('ghost_file_entry'), messageType('ghost_chunk_entry')];
  return info.message ? [messageType(info.message)] : [];
}

const DEFAULTS = { maxEntrySize: 64 << 20, maxPayloadSize: 1 << 30 };

// -------------------------------------------------------------------- parser protocol

/** Ask the driver for exactly n bytes (fewer only at end of input); 'rest' asks for everything left. */
type Request = { t: 'read'; n: number } | { t: 'rest' } | { t: 'entry'; entry: Entry } | { t: 'head'; magic: string; secondary: number | null };
type Parser = Generator<Request, void, Uint8Array>;

class Framer {
  offset = 0;
  index = -1;
  readonly decoderOf: (type: MessageType) => MessageDecoder;
  readonly selection: FieldSelection | undefined;
  constructor(readonly name: string, readonly opts: Required<Pick<DecodeOptions, 'maxEntrySize' | 'maxPayloadSize'>>, decoding: DecodeOptions) {
    ({ decoderOf: this.decoderOf, selection: this.selection } = messageDecoders(decoding));
  }

  /** A field selection must name fields of this image's entry types. */
  checkSelection(info: MagicInfo): void {
    const types = entryTypes(info);
    if (this.selection && types.length) checkSelection(types, this.selection);
  }

  fail(what: string, offset = this.offset, cause?: unknown): never {
    const where = this.index >= 0 ? ` (entry ${this.index})` : '';
    throw new CryoError('BAD_IMAGE', `${this.name}: ${what} at offset ${offset}${where}`, {
      hint: 'the image is damaged, truncated or not a CRIU image',
      cause,
      details: { file: this.name, offset, entry: this.index >= 0 ? this.index : undefined },
    });
  }
}

function u32(b: Uint8Array, at = 0): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Read n bytes or fail as truncated. */
function* need(fr: Framer, n: number, what: string): Generator<Request, Uint8Array, Uint8Array> {
  const at = fr.offset;
  const b: Uint8Array = yield { t: 'read', n };
  if (b.length < n) fr.fail(`truncated ${what}: ${n} bytes needed, ${b.length} left`, at);
  fr.offset += n;
  return b;
}

/** The next entry's message, or null at a clean end of input. */
function* nextMessage(fr: Framer, type: MessageType, eofOk: boolean): Generator<Request, Entry | null, Uint8Array> {
  const at = fr.offset;
  const sb: Uint8Array = yield { t: 'read', n: 4 };
  if (sb.length === 0 && eofOk) return null;
  fr.index++;
  if (sb.length < 4) fr.fail(`truncated entry size: 4 bytes needed, ${sb.length} left`, at);
  fr.offset += 4;
  const size = u32(sb);
  if (size > 0x7fffffff) fr.fail(`negative entry size ${size | 0}`, at);
  if (size > fr.opts.maxEntrySize) fr.fail(`entry size ${size} exceeds the limit of ${fr.opts.maxEntrySize} bytes`, at);
  const body = yield* need(fr, size, `entry: ${size} bytes declared`);
  try {
    return fr.decoderOf(type)(body, 0, body.length);
  } catch (e) {
    if (e instanceof WireError) fr.fail(`invalid protobuf ${type.name} (${e.message})`, at + 4 + e.offset, e);
    throw e;
  }
}

function payloadSize(fr: Framer, n: unknown, what: string): number {
  if (typeof n !== 'number' && typeof n !== 'bigint') fr.fail(`${what}: the entry lacks its size field`);
  if (typeof n === 'number' && !Number.isInteger(n)) fr.fail(`${what}: the entry lacks its size field`);
  const v = typeof n === 'bigint' ? n : BigInt(n);
  if (v < 0n || v > BigInt(fr.opts.maxPayloadSize)) fr.fail(`${what} size ${v} exceeds the limit of ${fr.opts.maxPayloadSize} bytes`);
  return Number(v);
}

const roundUp = (x: number, y: number): number => Math.ceil(x / y) * y;

function* readExtra(fr: Framer, kind: string, e: Entry): Generator<Request, unknown, Uint8Array> {
  switch (kind) {
    case 'pipe-data': return Buffer.from(yield* need(fr, payloadSize(fr, e.bytes, 'pipe data'), 'pipe data'));
    case 'sk-queue': return Buffer.from(yield* need(fr, payloadSize(fr, e.length, 'queued packet'), 'queued packet'));
    case 'tcp-stream': {
      const inq = Buffer.from(yield* need(fr, payloadSize(fr, e.inq_len, 'tcp in-queue'), 'tcp in-queue'));
      const outq = Buffer.from(yield* need(fr, payloadSize(fr, e.outq_len, 'tcp out-queue'), 'tcp out-queue'));
      return { inq, outq };
    }
    case 'bpfmap-data': {
      const n = payloadSize(fr, payloadSize(fr, e.keys_bytes, 'bpf map keys') + payloadSize(fr, e.values_bytes, 'bpf map values'), 'bpf map data');
      return Buffer.from(yield* need(fr, n, 'bpf map data'));
    }
    case 'ipc-shm': {
      // with in_pagemaps the segment's pages live in pagemap/pages images, nothing follows the entry
      if (e.in_pagemaps === true) return undefined;
      const size = payloadSize(fr, e.size, 'shm segment');
      const b = yield* need(fr, roundUp(size, 4), 'shm segment');
      return Buffer.from(b.subarray(0, size));
    }
    case 'ipc-sem': {
      const n = payloadSize(fr, payloadSize(fr, e.nsems, 'semaphore set') * 2, 'semaphore set');
      const b = yield* need(fr, roundUp(n, 8), 'semaphore set');
      const out: number[] = [];
      for (let i = 0; i < n; i += 2) out.push(b[i] | (b[i + 1] << 8));
      return out;
    }
    case 'ipc-msg': {
      const out: unknown[] = [];
      const mt = messageType('ipc_msg');
      const qnum = payloadSize(fr, e.qnum, 'message queue');
      for (let i = 0; i < qnum; i++) {
        const at = fr.offset;
        const sb = yield* need(fr, 4, 'message size');
        const size = u32(sb);
        if (size > fr.opts.maxEntrySize) fr.fail(`message size ${size} exceeds the limit of ${fr.opts.maxEntrySize} bytes`, at);
        const body = yield* need(fr, size, 'message');
        let msg: Entry;
        try {
          msg = fr.decoderOf(mt)(body, 0, body.length);
        } catch (err) {
          if (err instanceof WireError) fr.fail(`invalid protobuf ipc_msg (${err.message})`, at + 4 + err.offset, err);
          throw err;
        }
        const msize = payloadSize(fr, msg.msize, 'message');
        const data = yield* need(fr, roundUp(msize, 8), 'message data');
        out.push(msg, Buffer.from(data.subarray(0, msize)));
      }
      return out;
    }
  }
  throw new Error(`unknown payload kind ${kind}`);
}

function* parseImage(fr: Framer, opts: DecodeOptions): Parser {
  if (opts.raw || isRawImageName(basename(fr.name))) {
    const rest: Uint8Array = yield { t: 'rest' };
    yield { t: 'head', magic: 'RAW', secondary: null };
    yield { t: 'entry', entry: { extra: Buffer.from(rest) } };
    return;
  }
  const first = u32(yield* need(fr, 4, 'magic'));
  let secondary: number | null = null;
  let value = first;
  if (first === IMG_COMMON || first === IMG_SERVICE) {
    secondary = first;
    value = u32(yield* need(fr, 4, 'magic'));
  }
  const info: MagicInfo | undefined = MAGICS_BY_VALUE.get(value);
  if (!info || value === CRTOOLS_IMAGES_V1_1) {
    fr.fail(`unknown magic 0x${value.toString(16)}${isRawHint(fr.name)}`, fr.offset - 4);
  }
  fr.checkSelection(info);
  yield { t: 'head', magic: info.name, secondary };
  if (info.framing === 'blob') {
    const rest: Uint8Array = yield { t: 'rest' };
    fr.offset += rest.length;
    yield { t: 'entry', entry: { extra: Buffer.from(rest) } };
    return;
  }
  if (info.framing === 'pagemap') {
    const head = yield* nextMessage(fr, messageType('pagemap_head'), true);
    if (!head) return;
    yield { t: 'entry', entry: head };
    const mt = messageType('pagemap_entry');
    for (;;) {
      const e = yield* nextMessage(fr, mt, true);
      if (!e) return;
      yield { t: 'entry', entry: e };
    }
  }
  if (info.framing === 'ghost') {
    const g = yield* nextMessage(fr, messageType('ghost_file_entry'), false);
    if (!g) return;
    if (g.chunks === true) {
      yield { t: 'entry', entry: g };
      const mt = messageType('ghost_chunk_entry');
      for (;;) {
        const c = yield* nextMessage(fr, mt, true);
        if (!c) return;
        const n = payloadSize(fr, c.len, 'ghost chunk');
        c.extra = Buffer.from(yield* need(fr, n, 'ghost chunk'));
        yield { t: 'entry', entry: c };
      }
    }
    const rest: Uint8Array = yield { t: 'rest' };
    fr.offset += rest.length;
    g.extra = Buffer.from(rest);
    yield { t: 'entry', entry: g };
    return;
  }
  const mt = messageType(info.message!);
  for (;;) {
    const e = yield* nextMessage(fr, mt, true);
    if (!e) return;
    if (info.extra) {
      const x = yield* readExtra(fr, info.extra, e);
      if (x !== undefined) e.extra = x;
    }
    yield { t: 'entry', entry: e };
  }
}

function isRawHint(name: string): string {
  return name.endsWith('.img') || name === '<input>' ? ' (a raw data image such as pages-*.img?)' : '';
}

function options(opts: DecodeOptions) {
  return {
    maxEntrySize: opts.maxEntrySize ?? DEFAULTS.maxEntrySize,
    maxPayloadSize: opts.maxPayloadSize ?? DEFAULTS.maxPayloadSize,
  };
}

// -------------------------------------------------------------------- drivers

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

/** A source of bytes for streaming: an async iterable of chunks (a Readable stream works). */
export type ByteSource = AsyncIterable<Uint8Array | string>;

class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private have = 0;
  private done = false;
  private it: AsyncIterator<Uint8Array | string>;
  constructor(src: ByteSource) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<void> {
    while (this.have < n && !this.done) {
      const r = await this.it.next();
      if (r.done) { this.done = true; break; }
      const c = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
      if (c.length) { this.chunks.push(c); this.have += c.length; }
    }
  }

  async take(n: number): Promise<Uint8Array> {
    await this.fill(n);
    const k = Math.min(n, this.have);
    if (this.chunks.length && this.chunks[0].length >= k) {
      const c = this.chunks[0];
      const out = c.subarray(0, k);
      if (c.length === k) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      this.have -= k;
      return out;
    }
    const out = Buffer.allocUnsafe(k);
    let off = 0;
    while (off < k) {
      const c = this.chunks[0];
      const m = Math.min(c.length, k - off);
      out.set(c.subarray(0, m), off);
      off += m;
      if (m === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(m);
    }
    this.have -= k;
    return out;
  }

  async rest(): Promise<Uint8Array> {
    await this.fill(Infinity);
    return this.take(this.have);
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

/** What iterateEntries yields first, then one item per entry. */
export interface ImageHeader {
  magic: string;
  secondaryMagic: number | null;
}

/**
 * Stream the entries of an image without holding it in memory: a path or a byte source.
 * Yields the header first ({magic, secondaryMagic}), then entries.
 */
export async function* iterateImage(src: string | ByteSource, opts: DecodeOptions = {}): AsyncGenerator<{ header: ImageHeader } | { entry: Entry }> {
  let source: ByteSource;
  let name = opts.name;
  if (typeof src === 'string') {
    const { open } = await import('node:fs/promises');
    let fh;
    try {
      fh = await open(src, 'r');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CryoError(err.code === 'ENOENT' ? 'NOT_FOUND' : 'FAILED', `cannot read ${src}: ${err.code ?? err.message}`, {
        hint: err.code === 'ENOENT' ? 'check the path to the image file' : 'check the file permissions', cause: e,
      });
    }
    source = fh.createReadStream({ highWaterMark: 1 << 20 });
    name ??= src;
  } else source = src;
  const fr = new Framer(name ?? '<input>', options(opts), opts);
  const q = new ChunkQueue(source);
  const gen = parseImage(fr, { ...opts, name });
  try {
    let input: Uint8Array | undefined;
    for (;;) {
      const r = gen.next(input!);
      if (r.done) break;
      const req = r.value;
      input = undefined;
      if (req.t === 'read') input = await q.take(req.n);
      else if (req.t === 'rest') input = await q.rest();
      else if (req.t === 'head') yield { header: { magic: req.magic, secondaryMagic: req.secondary } };
      else yield { entry: req.entry };
    }
  } finally {
    await q.close();
  }
}

/** Stream only the entries of an image (see iterateImage for the header). */
export async function* iterateEntries(src: string | ByteSource, opts: DecodeOptions = {}): AsyncGenerator<Entry> {
  for await (const item of iterateImage(src, opts)) if ('entry' in item) yield item.entry;
}

// -------------------------------------------------------------------- encoding

function badInput(msg: string, cause?: unknown): CryoError {
  return new CryoError('BAD_IMAGE', msg, { hint: 'fix the image description (field names and types as `cryo decode` prints them)', cause });
}

function bytesOf(v: unknown, path: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw badInput(`${path}: expected bytes`);
}

function writeEntry(w: Writer, type: MessageType, e: Entry, path: string): void {
  const sizeAt = w.len;
  w.u32le(0);
  try {
    encodeMessageInto(w, type, e, path);
  } catch (err) {
    if (err instanceof EncodeError) throw badInput(`cannot encode ${err.message}`, err);
    throw err;
  }
  w.buf.writeUInt32LE(w.len - sizeAt - 4, sizeAt);
}

function writeExtra(w: Writer, kind: string, e: Entry, path: string): void {
  const x = e.extra;
  const p = `${path}.extra`;
  switch (kind) {
    case 'pipe-data': case 'sk-queue': case 'bpfmap-data':
      if (x !== undefined) w.raw(bytesOf(x, p));
      return;
    case 'tcp-stream': {
      if (x === undefined) return;
      const t = x as { inq?: unknown; outq?: unknown };
      if (typeof t !== 'object' || t === null) throw badInput(`${p}: expected {inq, outq}`);
      w.raw(bytesOf(t.inq, `${p}.inq`));
      w.raw(bytesOf(t.outq, `${p}.outq`));
      return;
    }
    case 'ipc-shm': {
      if (e.in_pagemaps === true || x === undefined) return;
      const size = Number(e.size);
      const d = bytesOf(x, p);
      const out = Buffer.alloc(roundUp(size, 4));
      out.set(d.subarray(0, size));
      w.raw(out);
      return;
    }
    case 'ipc-sem': {
      if (x === undefined) return;
      if (!Array.isArray(x) || x.length !== e.nsems) throw badInput(`${p}: expected ${e.nsems} semaphore values`);
      const out = Buffer.alloc(roundUp(x.length * 2, 8));
      x.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) throw badInput(`${p}[${i}]: expected a u16`);
        out.writeUInt16LE(v, i * 2);
      });
      w.raw(out);
      return;
    }
    case 'ipc-msg': {
      if (x === undefined) return;
      if (!Array.isArray(x)) throw badInput(`${p}: expected [message, data, ...]`);
      const mt = messageType('ipc_msg');
      for (let i = 0; i + 1 < x.length; i += 2) {
        const msg = x[i] as Entry;
        writeEntry(w, mt, msg, `${p}[${i}]`);
        const msize = Number(msg.msize);
        const d = bytesOf(x[i + 1], `${p}[${i + 1}]`);
        const out = Buffer.alloc(roundUp(msize, 8));
        out.set(d.subarray(0, msize));
        w.raw(out);
      }
      return;
    }
  }
}

/** Encode an image to its on-disk bytes. Throws CryoError BAD_IMAGE when the entries do not fit the schema. */
export function encodeImage(img: Image): Buffer {
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
  for (let i = 0; i < entries.length; i++) {
    const e = check(entries[i], i);
    writeEntry(w, mt, e, `entries[${i}]`);
    if (info.extra) writeExtra(w, info.extra, e, `entries[${i}]`);
  }
  return Buffer.from(w.result());
}
