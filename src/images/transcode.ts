// Straight from image bytes to crit's JSON for the common case (plain entries or a pagemap, in-order
// fields, nothing unknown): no entry objects and no bigints for values that fit 53 bits. Anything
// unusual returns undefined and the caller takes the decode-then-render path, which also produces
// the exact error messages. Tests compare both paths on every fixture and on fuzzed input.
import { basename } from 'node:path';
import { IMG_COMMON, IMG_SERVICE, MAGICS_BY_VALUE, isRawImageName } from './magic.js';
import { keyOf, sepOf, writeScalar } from './json-writer.js';
import { nl, Out } from './py-json.js';
import { messageType, type FieldInfo, type MessageType } from './schema.js';
import { Reader, readScalar } from './wire.js';

const MAX_DEPTH = 64;
const TWO32 = 4294967296;

class Bail extends Error {}
const BAIL = new Bail();

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** An unsigned 64-bit varint value already read into r.lo/r.hi, written as crit renders it. */
function writeU64(o: Out, f: FieldInfo, r: Reader, pretty: boolean, isHex: boolean): void {
  if (r.hi >= 0x200000) {
    writeScalar(o, f, (BigInt(r.hi) << 32n) | BigInt(r.lo), pretty, isHex);
    return;
  }
  const n = r.hi * TWO32 + r.lo;
  if (!pretty) o.int(n);
  else writeScalar(o, f, n, pretty, isHex);
}

// per (type, pretty, level): the separator and key written before each field, precomputed; looked up
// once per message, so kept on the type itself (an array per rendering mode, indexed by level)
interface Prefixes { open: string[]; comma: string[]; more: string; close: string; arrOpen: string; arrClose: string }
const PREFIXES = new WeakMap<MessageType, [Prefixes[], Prefixes[]]>();
function prefixes(type: MessageType, pretty: boolean, level: number): Prefixes {
  let modes = PREFIXES.get(type);
  if (!modes) PREFIXES.set(type, (modes = [[], []]));
  const byLevel = modes[pretty ? 1 : 0];
  let p = byLevel[level];
  if (!p) {
    p = {
      open: type.fields.map((f) => sepOf(true, pretty, level) + keyOf(f)),
      comma: type.fields.map((f) => sepOf(false, pretty, level) + keyOf(f)),
      more: pretty ? `,${nl(level + 2)}` : ', ',
      close: pretty ? `${nl(level)}}` : '}',
      arrOpen: pretty ? `[${nl(level + 2)}` : '[',
      arrClose: pretty ? `${nl(level + 1)}]` : ']',
    };
    byLevel[level] = p;
  }
  return p;
}

function writeMessage(o: Out, type: MessageType, r: Reader, end: number, pretty: boolean, isHex: boolean, level: number, depth: number): void {
  if (depth > MAX_DEPTH) throw BAIL;
  const buf = r.buf;
  const pre = prefixes(type, pretty, level);
  let first = true;
  let lastId = 0;
  let openArray: FieldInfo | undefined;
  let required = 0;
  while (r.pos < end) {
    const b0 = buf[r.pos];
    let key: number;
    if (b0 < 0x80) { key = b0; r.pos++; } else key = r.varint32() >>> 0;
    const id = key >>> 3;
    const f = id < type.byNumber.length ? type.byNumber[id] : undefined;
    // unknown, packed or mismatched fields, and anything out of order: the general path
    if (!f || (key & 7) !== f.wireType) throw BAIL;
    if (id === lastId) {
      if (!f.repeated) throw BAIL;
      o.ascii(pre.more);
    } else {
      if (id < lastId) throw BAIL;
      if (openArray) { o.ascii(pre.arrClose); openArray = undefined; }
      lastId = id;
      if (f.required) required++;
      o.ascii(first ? pre.open[f.index] : pre.comma[f.index]);
      first = false;
      if (f.repeated) {
        if (pretty && f.opts.ipadd) throw BAIL;
        openArray = f;
        o.ascii(pre.arrOpen);
      }
    }
    const inner = f.repeated ? level + 2 : level + 1;
    switch (f.kind) {
      case 'message': {
        const [s, e] = r.bytes();
        const sub = new Reader(buf, s, e);
        writeMessage(o, f.messageType!, sub, e, pretty, isHex || f.opts.hex === true, inner, depth + 1);
        break;
      }
      case 'uint64':
        r.varint64();
        writeU64(o, f, r, pretty, isHex);
        break;
      case 'uint32': {
        const v = r.varint32() >>> 0;
        if (!pretty) o.int(v);
        else writeScalar(o, f, v, pretty, isHex);
        break;
      }
      case 'enum': {
        const v = r.varint32() | 0;
        const name = f.enumType!.byNumber.get(v);
        if (name === undefined) throw BAIL;
        o.ascii(`"${name}"`);
        break;
      }
      default:
        writeScalar(o, f, readScalar(r, f, depth), pretty, isHex);
    }
  }
  if (openArray) o.ascii(pre.arrClose);
  if (required !== type.required.length) throw BAIL;
  o.ascii(first ? '{}' : pre.close);
}

/** crit's JSON for a plain image straight from its bytes, or undefined when the general path is needed. */
export function transcodeToJson(buf: Uint8Array, opts: { name?: string; pretty?: boolean; maxEntrySize?: number } = {}): Buffer | undefined {
  if (buf.length < 8 || isRawImageName(basename(opts.name ?? '<input>'))) return undefined;
  let pos = 4;
  let value = u32(buf, 0);
  if (value === IMG_COMMON || value === IMG_SERVICE) {
    value = u32(buf, 4);
    pos = 8;
  }
  const info = MAGICS_BY_VALUE.get(value);
  if (!info || (info.framing !== 'entries' && info.framing !== 'pagemap') || info.extra) return undefined;
  const pretty = opts.pretty === true;
  const max = opts.maxEntrySize ?? 64 << 20;
  const pagemap = info.framing === 'pagemap';
  const firstType = pagemap ? messageType('pagemap_head') : messageType(info.message!);
  const restType = pagemap ? messageType('pagemap_entry') : firstType;
  const o = new Out(Math.min(1 << 28, Math.max(1 << 16, buf.length * (pretty ? 14 : 5))));
  o.ascii(pretty ? `{${nl(1)}"magic": "${info.name}",${nl(1)}"entries": ` : `{"magic": "${info.name}", "entries": `);
  const end = buf.length;
  let n = 0;
  try {
    while (pos < end) {
      if (end - pos < 4) return undefined;
      const size = u32(buf, pos);
      pos += 4;
      if (size > 0x7fffffff || size > max || size > end - pos) return undefined;
      o.ascii(n === 0 ? (pretty ? `[${nl(2)}` : '[') : (pretty ? `,${nl(2)}` : ', '));
      const r = new Reader(buf, pos, pos + size);
      writeMessage(o, n === 0 ? firstType : restType, r, pos + size, pretty, false, 2, 0);
      pos += size;
      n++;
    }
  } catch {
    // malformed protobuf (WireError) or something unusual (Bail): the general path decides
    return undefined;
  }
  o.ascii(n === 0 ? '[]' : (pretty ? `${nl(1)}]` : ']'));
  o.ascii(pretty ? '\n}' : '}');
  return o.result();
}
