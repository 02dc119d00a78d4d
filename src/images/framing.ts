// Image framing: magic(s), then u32 size + message entries, and the raw payloads some types carry (read
// by their handlers in payloads.ts). One parser, a generator that asks for bytes, serves whole-buffer
// decoding (image.ts) and streaming (image-stream.ts) alike.
import { basename } from 'node:path';
import { CryoError } from '../errors.js';
import type { DecodeOptions, Request } from './types.js';
import { checkSelection, compileSelection, leanDecoderOf, type FieldSelection } from './lean.js';
import { CRTOOLS_IMAGES_V1_1, IMG_COMMON, IMG_SERVICE, MAGICS_BY_VALUE, isRawImageName, type MagicInfo } from './magic.js';
import { PAYLOADS, type PayloadInput } from './payloads.js';
import { messageType, type MessageType } from './schema.js';
import { decodeMessage, WireError, type Entry } from './wire.js';

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

/** Ask the driver for exactly n bytes (fewer only at end of input); 'rest' asks for everything left. */
export type { Request } from './types.js';
type Parser = Generator<Request, void, Uint8Array>;

export class Framer implements PayloadInput {
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

  /** n bytes of payload, or BAD_IMAGE as truncated */
  bytes(n: number, what: string): Generator<Request, Uint8Array, Uint8Array> {
    return need(this, n, what);
  }

  /** A payload size taken from the entry, within the payload limit. */
  size(n: unknown, what: string): number {
    if (typeof n !== 'number' && typeof n !== 'bigint') this.fail(`${what}: the entry lacks its size field`);
    if (typeof n === 'number' && !Number.isInteger(n)) this.fail(`${what}: the entry lacks its size field`);
    const v = typeof n === 'bigint' ? n : BigInt(n);
    if (v < 0n || v > BigInt(this.opts.maxPayloadSize)) this.fail(`${what} size ${v} exceeds the limit of ${this.opts.maxPayloadSize} bytes`);
    return Number(v);
  }

  /** A u32 size then one message of `type` inside a payload (IPCNS_MSG's messages). */
  *message(type: MessageType, what: string): Generator<Request, Entry, Uint8Array> {
    const at = this.offset;
    const size = u32(yield* need(this, 4, `${what} size`));
    if (size > this.opts.maxEntrySize) this.fail(`${what} size ${size} exceeds the limit of ${this.opts.maxEntrySize} bytes`, at);
    const body = yield* need(this, size, what);
    try {
      return this.decoderOf(type)(body, 0, body.length);
    } catch (err) {
      if (err instanceof WireError) this.fail(`invalid protobuf ${type.name} (${err.message})`, at + 4 + err.offset, err);
      throw err;
    }
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

export function u32(b: Uint8Array, at = 0): number {
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

export function* parseImage(fr: Framer, opts: DecodeOptions): Parser {
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
        const n = fr.size(c.len, 'ghost chunk');
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
      const x = yield* PAYLOADS[info.extra].read(fr, e);
      if (x !== undefined) e.extra = x;
    }
    yield { t: 'entry', entry: e };
  }
}

function isRawHint(name: string): string {
  return name.endsWith('.img') || name === '<input>' ? ' (a raw data image such as pages-*.img?)' : '';
}

export function options(opts: DecodeOptions) {
  return {
    maxEntrySize: opts.maxEntrySize ?? DEFAULTS.maxEntrySize,
    maxPayloadSize: opts.maxPayloadSize ?? DEFAULTS.maxPayloadSize,
  };
}
