// Straight from image bytes to crit's JSON for the common case (plain entries or a pagemap, in-order
// fields, nothing unknown): no entry objects and no bigints for values that fit 53 bits. Anything
// unusual returns undefined and the caller takes the decode-then-render path, which also produces
// the exact error messages. One generated function per (message type, rendering) reads the wire and
// writes the JSON with the field dispatch and the key text decided once: small, monomorphic functions
// that V8 optimises after a few hundred VMAs (the one generic walk stayed interpreted for most of a
// 20,000-mapping mm image). Tests compare both paths on every fixture and on fuzzed input.
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

/** Writes the message in [r.pos, end) as JSON; leaves r.pos at end; throws BAIL (or WireError) to give up. */
type MessageWriter = (o: Out, r: Reader, end: number, level: number, depth: number) => void;

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** An unsigned 64-bit varint at r.pos, written as crit renders it (a number below 2^53: no bigint). */
function writeU64(o: Out, r: Reader, f: FieldInfo, pretty: boolean, isHex: boolean): void {
  const b = r.buf;
  const end = r.end;
  let p = r.pos;
  let x = 0;
  let mul = 1;
  // up to 7 bytes (49 bits) summed without shifts: addresses, sizes and ids
  for (let i = 0; i < 7 && p < end; i++) {
    const c = b[p++];
    x += (c & 0x7f) * mul;
    if (c < 0x80) {
      r.pos = p;
      if (!pretty) o.int(x);
      else writeScalar(o, f, x, pretty, isHex);
      return;
    }
    mul *= 128;
  }
  r.varint64();
  if (r.hi >= 0x200000) {
    writeScalar(o, f, (BigInt(r.hi) << 32n) | BigInt(r.lo), pretty, isHex);
    return;
  }
  const n = r.hi * TWO32 + r.lo;
  if (!pretty) o.int(n);
  else writeScalar(o, f, n, pretty, isHex);
}

/** Consecutive occurrences of a repeated message field (r.pos at the first one's length), separated by `more`. */
function writeMessages(o: Out, r: Reader, end: number, k0: number, k1: number, w: MessageWriter, level: number, depth: number, more: string): void {
  const b = r.buf;
  let p = r.pos;
  for (;;) {
    r.pos = p;
    const len = r.varint32() >>> 0;
    p = r.pos;
    if (len > end - p) throw BAIL;
    w(o, r, p + len, level, depth);
    p = r.pos;
    r.end = end;
    // the next key: the same field again, or the end of the array
    if (k1 < 0) {
      if (p >= end || b[p] !== k0) break;
      p += 1;
    } else {
      if (p + 1 >= end || b[p] !== k0 || b[p + 1] !== k1) break;
      p += 2;
    }
    o.ascii(more);
  }
  r.pos = p;
}

/** Any other scalar, the decoder's way (its value types) and the writer's rendering. */
function writeOther(o: Out, r: Reader, f: FieldInfo, pretty: boolean, isHex: boolean, depth: number): void {
  writeScalar(o, f, readScalar(r, f, depth), pretty, isHex);
}

// per (type, pretty, level): the separator and key written before each field, precomputed
interface Prefixes { open: string[]; comma: string[]; more: string; close: string; arrOpen: string; arrClose: string }
function prefixesAt(type: MessageType, pretty: boolean, level: number): Prefixes {
  return {
    open: type.fields.map((f) => sepOf(true, pretty, level) + keyOf(f)),
    comma: type.fields.map((f) => sepOf(false, pretty, level) + keyOf(f)),
    more: pretty ? `,${nl(level + 2)}` : ', ',
    close: pretty ? `${nl(level)}}` : '}',
    arrOpen: pretty ? `[${nl(level + 2)}` : '[',
    arrClose: pretty ? `${nl(level + 1)}]` : ']',
  };
}

/** Whether crit renders this field's integers as plain numbers in this mode (no hex, flags, dict, dev). */
function plainNumber(f: FieldInfo, pretty: boolean, isHex: boolean): boolean {
  return !pretty || (!isHex && !f.opts.hex && !f.opts.dev && !f.opts.flags && !f.opts.dict);
}

const WRITERS = new WeakMap<MessageType, (MessageWriter | undefined)[]>();

/** The generated writer of one message type for one rendering (plain, or pretty with or without hex). */
function writerOf(type: MessageType, pretty: boolean, isHex: boolean): MessageWriter {
  if (!pretty) isHex = false;
  const slot = pretty ? (isHex ? 2 : 1) : 0;
  let byMode = WRITERS.get(type);
  if (!byMode) WRITERS.set(type, (byMode = []));
  const have = byMode[slot];
  if (have) return have;
  const fields = type.fields;
  const lit = (s: string) => JSON.stringify(s);
  // plain mode: the texts do not depend on the level, so they are literals in the code
  const flat = pretty ? undefined : prefixesAt(type, false, 0);
  const txt = (k: 'more' | 'close' | 'arrOpen' | 'arrClose') => (flat ? lit(flat[k]) : `P.${k}`);
  const openOf = (i: number) => (flat ? `(first ? ${lit(flat.open[i]!)} : ${lit(flat.comma[i]!)})` : `(first ? P.open[${i}] : P.comma[${i}])`);
  const subs: (MessageWriter | undefined)[] = [];
  // nested writers resolved on first use: types may refer to themselves
  const S = fields.map((f, i) => () => (subs[i] ??= writerOf(f.messageType!, pretty, isHex || f.opts.hex === true)));
  const EQ = fields.map((f) => (f.enumType ? new Map([...f.enumType.byNumber].map(([n, name]) => [n, `"${name}"`])) : undefined));
  // fields must come in field-number order (as protobuf-c writes them): one test per field, in order,
  // instead of a dispatch loop; anything else (order, duplicates, unknown fields) is left at the end
  let code = '';
  // whether a field is the first written is known while generating once a required field was written
  let firstKnown: boolean | undefined = true;
  fields.forEach((f, i) => {
    const key = ((f.id << 3) | f.wireType) >>> 0;
    // pretty IP addresses join the words of the whole array: the general path does that
    if (pretty && f.repeated && f.opts.ipadd) return;
    let match: string;
    let klen: number;
    if (key < 0x80) { match = `p < end && b[p] === ${key}`; klen = 1; }
    else if (key < 0x4000) { match = `p + 1 < end && b[p] === ${(key & 0x7f) | 0x80} && b[p + 1] === ${key >>> 7}`; klen = 2; }
    else {
      // field numbers past 2047 (none in CRIU's schemas): the general path
      if (f.required) code += '    throw BAIL;\n';
      return;
    }
    const plain = plainNumber(f, pretty, isHex);
    const inner = f.repeated ? 'level + 2' : 'level + 1';
    let value: string;
    switch (f.kind) {
      case 'message':
        value = `r.pos = p; c = r.varint32() >>> 0; p = r.pos; if (c > end - p) throw BAIL;
          (W${i} ??= S[${i}]())(o, r, p + c, ${inner}, depth + 1); p = r.pos; r.end = end;`;
        break;
      case 'uint64':
        value = plain
          ? `if (p < end && (c = b[p]) < 0x80) { p++; o.int(c); } else { r.pos = p; H.writeU64(o, r, F[${i}], ${pretty}, ${isHex}); p = r.pos; }`
          : `r.pos = p; H.writeU64(o, r, F[${i}], ${pretty}, ${isHex}); p = r.pos;`;
        break;
      case 'uint32':
        value = `if (p < end && (c = b[p]) < 0x80) p++; else { r.pos = p; c = r.varint32() >>> 0; p = r.pos; }
          ${plain ? 'o.int(c);' : `H.writeScalar(o, F[${i}], c, true, ${isHex});`}`;
        break;
      case 'enum':
        value = `if (p < end && (c = b[p]) < 0x80) p++; else { r.pos = p; c = r.varint32() | 0; p = r.pos; }
          { const name = EQ[${i}].get(c); if (name === undefined) throw BAIL; o.ascii(name); }`;
        break;
      case 'sint64':
        // one byte: a small value either side of zero (fd -1); the rest the decoder's way (bigint)
        value = plain
          ? `if (p < end && (c = b[p]) < 0x80) { p++; o.int((c >>> 1) ^ (0 - (c & 1))); } else { r.pos = p; H.writeOther(o, r, F[${i}], ${pretty}, ${isHex}, depth); p = r.pos; }`
          : `r.pos = p; H.writeOther(o, r, F[${i}], ${pretty}, ${isHex}, depth); p = r.pos;`;
        break;
      default:
        value = `r.pos = p; H.writeOther(o, r, F[${i}], ${pretty}, ${isHex}, depth); p = r.pos;`;
    }
    const open = firstKnown === undefined ? `o.ascii(${openOf(i)}); first = false;`
      : flat ? `o.ascii(${lit(firstKnown ? flat.open[i]! : flat.comma[i]!)}); first = false;`
        : `o.ascii(P.${firstKnown ? 'open' : 'comma'}[${i}]); first = false;`;
    if (f.required) firstKnown = false;
    else if (firstKnown) firstKnown = undefined;
    if (f.repeated && f.kind === 'message') {
      // the loop over many messages (VMAs) in a small function of its own: V8 then optimises that
      // loop alone rather than compiling the whole enclosing message's writer for it
      const k0 = key < 0x80 ? key : (key & 0x7f) | 0x80;
      const k1 = key < 0x80 ? -1 : key >>> 7;
      code += `    if (${match}) {\n      p += ${klen}; ${open} o.ascii(${txt('arrOpen')});
      r.pos = p; H.writeMessages(o, r, end, ${k0}, ${k1}, (W${i} ??= S[${i}]()), ${inner}, depth + 1, ${txt('more')}); p = r.pos;
      o.ascii(${txt('arrClose')});\n    }\n`;
    } else if (f.repeated) {
      code += `    if (${match}) {\n      p += ${klen}; ${open} o.ascii(${txt('arrOpen')});\n      ${value}
      while (${match}) { p += ${klen}; o.ascii(${txt('more')});\n        ${value} }\n      o.ascii(${txt('arrClose')});\n    }\n`;
    } else {
      code += `    if (${match}) {\n      p += ${klen}; ${open}\n      ${value}\n    }${f.required ? ' else throw BAIL;' : ''}\n`;
    }
  });
  const lazies = fields.map((f, i) => (f.kind === 'message' ? `let W${i};` : '')).join(' ');
  const body = `
    if (depth > ${MAX_DEPTH}) throw BAIL;
    const b = r.buf;
    let p = r.pos;
    r.end = end;
    ${pretty ? 'const P = LV[level] ?? (LV[level] = PRE(level));' : ''}
    let first = true, c = 0;
${code}    if (p < end) throw BAIL;
    o.ascii(first ? '{}' : ${txt('close')});
    r.pos = p;`;
  const LV: Prefixes[] = [];
  const PRE = (level: number) => prefixesAt(type, pretty, level);
  // eslint-disable-next-line no-new-func
  const make = new Function('H', 'F', 'S', 'EQ', 'LV', 'PRE', 'BAIL', `${lazies}\nreturn function t_${type.name.replace(/\W/g, '_')}(o, r, end, level, depth) {${body}\n};`);
  const w = make({ writeU64, writeOther, writeScalar, writeMessages }, fields, S, EQ, LV, PRE, BAIL) as MessageWriter;
  byMode[slot] = w;
  return w;
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
  const firstWriter = writerOf(pagemap ? messageType('pagemap_head') : messageType(info.message!), pretty, false);
  const restWriter = pagemap ? writerOf(messageType('pagemap_entry'), pretty, false) : firstWriter;
  const o = new Out(Math.min(1 << 28, Math.max(1 << 16, buf.length * (pretty ? 14 : 5))));
  o.ascii(pretty ? `{${nl(1)}"magic": "${info.name}",${nl(1)}"entries": ` : `{"magic": "${info.name}", "entries": `);
  const end = buf.length;
  const r = new Reader(buf, pos, end);
  let n = 0;
  try {
    while (pos < end) {
      if (end - pos < 4) return undefined;
      const size = u32(buf, pos);
      pos += 4;
      if (size > 0x7fffffff || size > max || size > end - pos) return undefined;
      o.ascii(n === 0 ? (pretty ? `[${nl(2)}` : '[') : (pretty ? `,${nl(2)}` : ', '));
      r.pos = pos;
      (n === 0 ? firstWriter : restWriter)(o, r, pos + size, 2, 0);
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
