// Protobuf wire format for CRIU's proto2 messages: decode to plain objects, encode back byte-exact.
// Own codec rather than protobufjs's: 64-bit integers must come out as exact bigints, fields must be
// written in field-number order unpacked (as protobuf-c writes them), and unknown fields must survive.
import type { FieldInfo, MessageType } from './schema.js';

/** Unknown fields of a decoded message, kept as raw wire bytes so encoding gives them back. */
export const UNKNOWN_FIELDS: unique symbol = Symbol.for('cryo.unknownFields');

/** A wire-format problem; `offset` is relative to the buffer given to decodeMessage. */
export class WireError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

export type Entry = Record<string, unknown> & { [UNKNOWN_FIELDS]?: Buffer[] };

const utf8 = new TextDecoder('utf-8');
const MAX_DEPTH = 64;

export class Reader {
  pos: number;
  /** `end` moves while a nested message is read (lean decoders narrow it, then restore it) */
  constructor(readonly buf: Uint8Array, start: number, public end: number) {
    this.pos = start;
  }

  fail(msg: string, at = this.pos): never {
    throw new WireError(msg, at);
  }

  /** A varint that must fit 32 bits of interest (upper bits are dropped, as protobuf does for int32). */
  varint32(): number {
    const b = this.buf;
    let p = this.pos;
    let x = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) this.fail('truncated varint');
      const c = b[p++];
      if (shift < 32) x |= (c & 0x7f) << shift;
      shift += 7;
      if (c < 0x80) {
        this.pos = p;
        return x;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  lo = 0;
  hi = 0;

  /** A full 64-bit varint into this.lo / this.hi (unsigned 32-bit halves); no allocation. */
  varint64(): void {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (p >= this.end) this.fail('truncated varint');
      const c = b[p++];
      if (i < 4) lo |= (c & 0x7f) << (7 * i);
      else if (i === 4) {
        lo |= (c & 0x0f) << 28;
        hi |= (c & 0x7f) >> 4;
      } else hi |= (c & 0x7f) << (7 * i - 32);
      if (c < 0x80) {
        this.pos = p;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    return this.fail('varint longer than 10 bytes');
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) this.fail('truncated fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  /** A length-delimited value: [start, end). */
  bytes(): [number, number] {
    const len = this.varint32() >>> 0;
    const start = this.pos;
    if (len > this.end - start) this.fail(`length ${len} past the end of the message`, start);
    this.pos = start + len;
    return [start, start + len];
  }

  skip(wireType: number, fieldStart: number): void {
    switch (wireType) {
      case 0: this.varint64(); break;
      case 1: if (this.pos + 8 > this.end) this.fail('truncated fixed64'); this.pos += 8; break;
      case 2: this.bytes(); break;
      case 5: if (this.pos + 4 > this.end) this.fail('truncated fixed32'); this.pos += 4; break;
      default: this.fail(`invalid wire type ${wireType}`, fieldStart);
    }
  }
}

// one BigInt from an exact double whenever the value fits 53 bits (addresses, sizes): the common case
function toBig(lo: number, hi: number): bigint {
  return hi < 0x200000 ? BigInt(hi * 4294967296 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

function toBigSigned(lo: number, hi: number): bigint {
  if (hi < 0x200000) return BigInt(hi * 4294967296 + lo);
  if (hi >= 0xffe00000) return BigInt((hi - 4294967296) * 4294967296 + lo);
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

export function readScalar(r: Reader, f: FieldInfo, depth: number): unknown {
  switch (f.kind) {
    case 'uint32': return r.varint32() >>> 0;
    case 'int32': case 'enum': return r.varint32() | 0;
    case 'sint32': { const v = r.varint32() >>> 0; return (v >>> 1) ^ -(v & 1); }
    case 'bool': r.varint64(); return r.lo !== 0 || r.hi !== 0;
    case 'uint64': r.varint64(); return toBig(r.lo, r.hi);
    case 'int64': r.varint64(); return toBigSigned(r.lo, r.hi);
    case 'sint64': {
      r.varint64();
      const v = toBig(r.lo, r.hi);
      return (v >> 1n) ^ -(v & 1n);
    }
    case 'fixed32': return r.fixed32();
    case 'sfixed32': return r.fixed32() | 0;
    case 'fixed64': { const lo = r.fixed32(); const hi = r.fixed32(); return toBig(lo, hi); }
    case 'sfixed64': { const lo = r.fixed32(); const hi = r.fixed32(); return toBigSigned(lo, hi); }
    case 'float': {
      if (r.pos + 4 > r.end) r.fail('truncated float');
      const v = Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, 4).readFloatLE(0);
      r.pos += 4;
      return v;
    }
    case 'double': {
      if (r.pos + 8 > r.end) r.fail('truncated double');
      const v = Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, 8).readDoubleLE(0);
      r.pos += 8;
      return v;
    }
    case 'string': { const [s, e] = r.bytes(); return utf8.decode(r.buf.subarray(s, e)); }
    case 'bytes': { const [s, e] = r.bytes(); return Buffer.from(r.buf.subarray(s, e)); }
    case 'message': {
      const [s, e] = r.bytes();
      return decodeRange(f.messageType!, r.buf, s, e, depth + 1);
    }
  }
}

/** Decode the field whose key was just read; the generic path (and the generated decoders' fallback). */
function decodeField(type: MessageType, r: Reader, out: Entry, key: number, fieldStart: number, depth: number): void {
  const buf = r.buf;
  const id = key >>> 3;
  const wt = key & 7;
  if (id === 0) r.fail('field number 0', fieldStart);
  const f = id < type.byNumber.length ? type.byNumber[id] : type.byId.get(id);
  if (!f || (wt !== f.wireType && !(f.repeated && wt === 2 && f.wireType !== 2))) {
    r.skip(wt, fieldStart);
    (out[UNKNOWN_FIELDS] ??= []).push(Buffer.from(buf.subarray(fieldStart, r.pos)));
    return;
  }
  if (f.repeated) {
    let arr = out[f.name] as unknown[] | undefined;
    if (!arr) out[f.name] = arr = [];
    if (wt === 2 && f.wireType !== 2) {
      // packed
      const [s, e] = r.bytes();
      const sub = new Reader(buf, s, e);
      while (sub.pos < e) arr.push(readScalar(sub, f, depth));
    } else arr.push(readScalar(r, f, depth));
  } else if (f.kind === 'message' && out[f.name] !== undefined) {
    // a repeated occurrence of a singular message merges into the first
    const [s, e] = r.bytes();
    Object.assign(out[f.name] as Entry, decodeRange(f.messageType!, buf, s, e, depth + 1));
  } else out[f.name] = readScalar(r, f, depth);
}

/** Required fields present, keys in field-number order. */
function finish(type: MessageType, out: Entry, ordered: boolean, start: number): Entry {
  for (const f of type.required) if (out[f.name] === undefined) throw new WireError(`missing required field ${type.name}.${f.name}`, start);
  if (ordered) return out;
  const sorted: Entry = {};
  for (const f of type.fields) if (out[f.name] !== undefined) sorted[f.name] = out[f.name];
  if (out[UNKNOWN_FIELDS]) sorted[UNKNOWN_FIELDS] = out[UNKNOWN_FIELDS];
  return sorted;
}

function decodeGeneric(type: MessageType, buf: Uint8Array, start: number, end: number, depth: number): Entry {
  const r = new Reader(buf, start, end);
  const out: Entry = {};
  let ordered = true;
  let lastId = 0;
  while (r.pos < end) {
    const fieldStart = r.pos;
    const b0 = buf[fieldStart];
    let key: number;
    if (b0 < 0x80) { key = b0; r.pos = fieldStart + 1; } else key = r.varint32() >>> 0;
    const id = key >>> 3;
    if (id < lastId) ordered = false;
    else lastId = id;
    decodeField(type, r, out, key, fieldStart, depth);
  }
  return finish(type, out, ordered, start);
}

function decodeRange(type: MessageType, buf: Uint8Array, start: number, end: number, depth: number): Entry {
  if (depth > MAX_DEPTH) throw new WireError('messages nested too deeply', start);
  return decodeGeneric(type, buf, start, end, depth);
}

/** Decode one message occupying buf[start, end). Throws WireError on malformed input. */
export function decodeMessage(type: MessageType, buf: Uint8Array, start = 0, end = buf.length): Entry {
  return decodeRange(type, buf, start, end, 0);
}

// ---------------------------------------------------------------- encoding

/** A growable byte sink. */
export class Writer {
  buf: Buffer;
  len = 0;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  varint(v: number): void {
    // v is an unsigned 32-bit value here
    this.ensure(5);
    v >>>= 0;
    while (v >= 0x80) {
      this.buf[this.len++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.len++] = v;
  }

  varintBig(v: bigint): void {
    // v is an unsigned 64-bit value here
    this.ensure(10);
    if (v < 0x80000000n) {
      this.varint(Number(v));
      return;
    }
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
  }

  u32le(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** An encoding problem: a value of the wrong type or range; `path` names the field. */
export class EncodeError extends Error {
  constructor(message: string, readonly path: string) {
    super(`${path}: ${message}`);
  }
}

function asBigInt(v: unknown, path: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'boolean') return v ? 1n : 0n;
  throw new EncodeError(`expected an integer, got ${describe(v)}`, path);
}

function asInt(v: unknown, path: string, min: number, max: number): number {
  let n: number;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'boolean') n = v ? 1 : 0;
  else throw new EncodeError(`expected an integer, got ${describe(v)}`, path);
  if (n < min || n > max) throw new EncodeError(`${v} is out of range [${min}, ${max}]`, path);
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'string') return `"${v.length > 40 ? `${v.slice(0, 40)}...` : v}"`;
  return typeof v;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

function writeValue(w: Writer, f: FieldInfo, v: unknown, path: string, depth: number): void {
  switch (f.kind) {
    case 'uint32': w.varint(asInt(v, path, 0, 0xffffffff)); return;
    case 'int32': case 'enum': {
      const n = asInt(v, path, -0x80000000, f.kind === 'enum' ? 0x7fffffff : 0x7fffffff);
      if (n < 0) w.varintBig(BigInt.asUintN(64, BigInt(n)));
      else w.varint(n);
      return;
    }
    case 'sint32': { const n = asInt(v, path, -0x80000000, 0x7fffffff); w.varint(((n << 1) ^ (n >> 31)) >>> 0); return; }
    case 'bool':
      if (typeof v !== 'boolean' && v !== 0 && v !== 1) throw new EncodeError(`expected true or false, got ${describe(v)}`, path);
      w.byte(v ? 1 : 0);
      return;
    case 'uint64': case 'fixed64': {
      const b = asBigInt(v, path);
      if (b < 0n || b > U64_MAX) throw new EncodeError(`${b} is out of range for uint64`, path);
      if (f.kind === 'uint64') w.varintBig(b);
      else { w.u32le(Number(b & 0xffffffffn)); w.u32le(Number(b >> 32n)); }
      return;
    }
    case 'int64': case 'sfixed64': {
      const b = asBigInt(v, path);
      if (b < I64_MIN || b > U64_MAX >> 1n) throw new EncodeError(`${b} is out of range for int64`, path);
      const u = BigInt.asUintN(64, b);
      if (f.kind === 'int64') w.varintBig(u);
      else { w.u32le(Number(u & 0xffffffffn)); w.u32le(Number(u >> 32n)); }
      return;
    }
    case 'sint64': {
      const b = asBigInt(v, path);
      if (b < I64_MIN || b > U64_MAX >> 1n) throw new EncodeError(`${b} is out of range for sint64`, path);
      w.varintBig(BigInt.asUintN(64, (b << 1n) ^ (b >> 63n)));
      return;
    }
    case 'fixed32': w.u32le(asInt(v, path, 0, 0xffffffff)); return;
    case 'sfixed32': w.u32le(asInt(v, path, -0x80000000, 0x7fffffff)); return;
    case 'float': case 'double': {
      if (typeof v !== 'number') throw new EncodeError(`expected a number, got ${describe(v)}`, path);
      const size = f.kind === 'float' ? 4 : 8;
      w.ensure(size);
      if (size === 4) w.buf.writeFloatLE(v, w.len);
      else w.buf.writeDoubleLE(v, w.len);
      w.len += size;
      return;
    }
    case 'string': {
      if (typeof v !== 'string') throw new EncodeError(`expected a string, got ${describe(v)}`, path);
      const b = Buffer.from(v, 'utf8');
      w.varint(b.length);
      w.raw(b);
      return;
    }
    case 'bytes': {
      if (!(v instanceof Uint8Array)) throw new EncodeError(`expected bytes, got ${describe(v)}`, path);
      w.varint(v.length);
      w.raw(v);
      return;
    }
    case 'message': {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
        throw new EncodeError(`expected an object, got ${describe(v)}`, path);
      }
      const sub = new Writer(64);
      encodeInto(sub, f.messageType!, v as Entry, path, depth + 1);
      w.varint(sub.len);
      w.raw(sub.result());
      return;
    }
  }
}

function encodeInto(w: Writer, type: MessageType, obj: Entry, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new EncodeError('messages nested too deeply', path);
  for (const f of type.fields) {
    const v = obj[f.name];
    const fpath = path ? `${path}.${f.name}` : f.name;
    if (v === undefined || v === null) {
      if (f.required) throw new EncodeError('required field is missing', fpath);
      continue;
    }
    const key = (f.id << 3) >>> 0;
    if (f.repeated) {
      if (!Array.isArray(v)) throw new EncodeError(`expected an array, got ${describe(v)}`, fpath);
      if (f.packed && f.wireType !== 2) {
        if (v.length === 0) continue;
        const sub = new Writer(64);
        v.forEach((x, i) => writeValue(sub, f, x, `${fpath}[${i}]`, depth));
        w.varint(key | 2);
        w.varint(sub.len);
        w.raw(sub.result());
      } else {
        for (let i = 0; i < v.length; i++) {
          w.varint(key | f.wireType);
          writeValue(w, f, v[i], `${fpath}[${i}]`, depth);
        }
      }
    } else {
      w.varint(key | f.wireType);
      writeValue(w, f, v, fpath, depth);
    }
  }
  const unknown = obj[UNKNOWN_FIELDS];
  if (unknown) for (const u of unknown) w.raw(u);
}

/** Encode one message; fields in field-number order, as protobuf-c writes them. */
export function encodeMessage(type: MessageType, obj: Entry, path = ''): Buffer {
  const w = new Writer(128);
  encodeInto(w, type, obj, path, 0);
  return w.result();
}

/** Append an encoded message to `w` (no length prefix). */
export function encodeMessageInto(w: Writer, type: MessageType, obj: Entry, path = ''): void {
  encodeInto(w, type, obj, path, 0);
}
