// Lean decoding for readers (inspection, stats, pstree): 64-bit integers as numbers when they are safe
// integers (bigint beyond, exact), no unknown-field capture, optionally only selected fields. One
// generated function per (message type, selection) reads the wire with the field dispatch decided
// once: this is what makes a 20,000-mapping mm image or a large pagemap cheap to read.
import { CryoError } from '../errors.js';
import type { FieldInfo, MessageType } from './schema.js';
import { readScalar, Reader, WireError, type Entry } from './wire.js';

/** Which fields a lean decoder keeps: a name maps to `true` (the whole value) or to a nested selection. */
export type FieldSelection = ReadonlyMap<string, FieldSelection | true>;

/** A compiled lean decoder: decodes the message in [r.pos, r.end). */
type LeanDecoder = (r: Reader, depth: number) => Entry;

const MAX_DEPTH = 64;
const TWO32 = 4294967296;

/** Turn `['vmas.start', 'exe_file_id']` into a selection tree; a bare name keeps the whole field. */
export function compileSelection(fields: readonly string[]): FieldSelection {
  const root = new Map<string, Map<string, unknown> | true>();
  for (const path of fields) {
    const parts = path.split('.');
    if (parts.some((p) => p === '')) throw badSelection(`empty name in the field path "${path}"`);
    let node = root;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      const have = node.get(p);
      if (i === parts.length - 1) node.set(p, true);
      else if (have === true) break;
      else {
        let next = have as Map<string, Map<string, unknown> | true> | undefined;
        if (!next) node.set(p, (next = new Map()));
        node = next;
      }
    }
  }
  return root as FieldSelection;
}

function badSelection(what: string): CryoError {
  return new CryoError('USAGE', `lean decoding: ${what}`, { hint: 'name fields as the proto spells them, nested ones with dots (vmas.start)' });
}

/** Check that every selected name exists in at least one of the image's entry types (and nested names in theirs). */
export function checkSelection(types: readonly MessageType[], sel: FieldSelection, where = ''): void {
  for (const [name, sub] of sel) {
    if (name === 'extra' && where === '') continue;
    const hits = types.map((t) => t.byName.get(name)).filter((f): f is FieldInfo => f !== undefined);
    if (hits.length === 0) throw badSelection(`no field "${where}${name}" in ${types.map((t) => t.name).join(' or ')}`);
    if (sub === true) continue;
    const nested = hits.filter((f) => f.kind === 'message').map((f) => f.messageType!);
    if (nested.length === 0) throw badSelection(`"${where}${name}" is not a message, it has no fields to select`);
    checkSelection(nested, sub, `${where}${name}.`);
  }
}

// ---------------------------------------------------------------- 64-bit values, lean

/** uint64: a number below 2^53, a bigint above. Up to 7 bytes (49 bits) are summed without shifts. */
function u64(r: Reader): number | bigint {
  const b = r.buf;
  const end = r.end;
  let p = r.pos;
  let x = 0;
  let mul = 1;
  for (let i = 0; i < 7 && p < end; i++) {
    const c = b[p++];
    x += (c & 0x7f) * mul;
    if (c < 0x80) {
      r.pos = p;
      return x;
    }
    mul *= 128;
  }
  r.varint64();
  return r.hi < 0x200000 ? r.hi * TWO32 + r.lo : (BigInt(r.hi) << 32n) | BigInt(r.lo);
}

/** A two's complement 64-bit value in lo/hi as a safe number or an exact bigint. */
function signed(lo: number, hi: number): number | bigint {
  if (hi < 0x200000) return hi * TWO32 + lo;
  if (hi > 0xffe00000 || (hi === 0xffe00000 && lo > 0)) return (hi - TWO32) * TWO32 + lo;
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo));
}

function i64(r: Reader): number | bigint {
  const b = r.buf;
  const p = r.pos;
  if (p < r.end && b[p] < 0x80) {
    r.pos = p + 1;
    return b[p];
  }
  r.varint64();
  return signed(r.lo, r.hi);
}

function s64(r: Reader): number | bigint {
  const b = r.buf;
  const p = r.pos;
  if (p < r.end && b[p] < 0x80) {
    r.pos = p + 1;
    const c = b[p];
    return c & 1 ? -(c + 1) / 2 : c / 2;
  }
  r.varint64();
  if (r.hi < 0x200000) {
    const n = r.hi * TWO32 + r.lo;
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  const u = (BigInt(r.hi) << 32n) | BigInt(r.lo);
  const v = (u >> 1n) ^ -(u & 1n);
  return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
}

function fixed64(r: Reader, isSigned: boolean): number | bigint {
  const lo = r.fixed32();
  const hi = r.fixed32();
  if (isSigned) return signed(lo, hi);
  return hi < 0x200000 ? hi * TWO32 + lo : (BigInt(hi) << 32n) | BigInt(lo);
}

/** The first required field missing from a message (for the error message). */
function missing(type: MessageType, masks: number[], start: number): never {
  const f = type.required.find((_, k) => (masks[k >> 5]! & (1 << (k & 31))) === 0)!;
  throw new WireError(`missing required field ${type.name}.${f.name}`, start);
}

/**
 * The further occurrences of a repeated message field that follow one at once (the VMAs of an mm
 * image): V8 optimises this small loop on its own, rather than compiling the whole enclosing decoder
 * for the loop around it. Same checks and errors as the generated code's.
 */
function more(r: Reader, k0: number, k1: number, decode: LeanDecoder, arr: Entry[], depth: number): void {
  const b = r.buf;
  for (;;) {
    const p = r.pos;
    if (k1 < 0) {
      if (p >= r.end || b[p] !== k0) return;
      r.pos = p + 1;
    } else {
      if (p + 1 >= r.end || b[p] !== k0 || b[p + 1] !== k1) return;
      r.pos = p + 2;
    }
    const len = r.varint32() >>> 0;
    const s = r.pos;
    if (len > r.end - s) r.fail(`length ${len} past the end of the message`, s);
    const outer = r.end;
    r.end = s + len;
    arr.push(decode(r, depth));
    r.end = outer;
  }
}

// handed to each generated decoder as plain parameters (direct calls, no property loads on a cold start)
const HELPER_NAMES = ['u64', 'i64', 's64', 'fixed64', 'readScalar', 'missing', 'WireError', 'more'];
const HELPERS = [u64, i64, s64, fixed64, readScalar, missing, WireError, more];

// ---------------------------------------------------------------- generated decoders

const DECODERS = new WeakMap<MessageType, Map<string, LeanDecoder>>();

function selectionKey(sel: FieldSelection | undefined): string {
  if (!sel) return '*';
  return [...sel].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => (v === true ? k : `${k}(${selectionKey(v)})`)).join(',');
}

/** The expression that reads one value of a non-message field from `r`. */
function valueCode(f: FieldInfo, i: number): string {
  switch (f.kind) {
    case 'uint32': return 'r.varint32() >>> 0';
    case 'int32': case 'enum': return 'r.varint32() | 0';
    case 'sint32': return '((v = r.varint32() >>> 0) >>> 1) ^ -(v & 1)';
    case 'bool': return '(r.varint64(), r.lo !== 0 || r.hi !== 0)';
    // the one-byte case inline: zeros, small ids and counts are most 64-bit values
    case 'uint64': return '(r.pos < r.end && buf[r.pos] < 0x80 ? buf[r.pos++] : u64(r))';
    case 'int64': return 'i64(r)';
    case 'sint64': return 's64(r)';
    case 'fixed64': return 'fixed64(r, false)';
    case 'sfixed64': return 'fixed64(r, true)';
    default: return `readScalar(r, F[${i}], depth)`;
  }
}

function leanDecoder(type: MessageType, sel: FieldSelection | undefined): LeanDecoder {
  const key = selectionKey(sel);
  let byKey = DECODERS.get(type);
  if (!byKey) DECODERS.set(type, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached) return cached;
  const fields = type.fields;
  const requiredIndex = new Map(type.required.map((f, k) => [f, k]));
  const words = Math.ceil(type.required.length / 32);
  const subs: (LeanDecoder | undefined)[] = [];
  // nested decoders resolved on first use: types may refer to themselves
  const D = fields.map((f, i) => () => (subs[i] ??= leanDecoder(f.messageType!, subSelection(sel, f))));
  let lazies = '';
  const mark = (f: FieldInfo): string => {
    const k = requiredIndex.get(f);
    return k === undefined ? '' : ` q${k >> 5} |= ${(1 << (k & 31)) | 0};`;
  };
  // dispatch on the field number (dense: a jump table even before the function is optimised), then
  // check the wire type; a mismatch falls through to the skip below, as an unknown field would
  let cases = '';
  fields.forEach((f, i) => {
    const name = JSON.stringify(f.name);
    if (sel && !sel.has(f.name)) {
      if (requiredIndex.has(f)) cases += `case ${f.id}: if (wt === ${f.wireType}) { r.skip(${f.wireType}, at);${mark(f)} continue; } break;\n`;
      return;
    }
    if (f.kind === 'message') {
      lazies += `let d${i};\n`;
      const read = `const e = range(r); const outer = r.end; r.end = e; const m = (d${i} ??= D[${i}]())(r, depth + 1); r.end = outer;`;
      if (f.repeated) {
        // the occurrences that follow at once are read by a small loop of their own (see moreMessages)
        const key = ((f.id << 3) | 2) >>> 0;
        const more = key < 0x4000 ? ` more(r, ${key < 0x80 ? key : (key & 0x7f) | 0x80}, ${key < 0x80 ? -1 : key >>> 7}, d${i}, a, depth + 1);` : '';
        cases += `case ${f.id}: if (wt === 2) { ${read} let a = out[${name}]; if (a === undefined) out[${name}] = a = [m]; else a.push(m);${more} continue; } break;\n`;
      }
      else cases += `case ${f.id}: if (wt === 2) { ${read} const o = out[${name}]; if (o === undefined) out[${name}] = m; else Object.assign(o, m);${mark(f)} continue; } break;\n`;
      return;
    }
    const val = valueCode(f, i);
    if (!f.repeated) {
      cases += `case ${f.id}: if (wt === ${f.wireType}) { out[${name}] = ${val};${mark(f)} continue; } break;\n`;
      return;
    }
    let c = `case ${f.id}: if (wt === ${f.wireType}) { const x = ${val}; const a = out[${name}]; if (a === undefined) out[${name}] = [x]; else a.push(x); continue; }\n`;
    // packed
    if (f.wireType !== 2) c += `  if (wt === 2) { const e = range(r); const outer = r.end; r.end = e; let a = out[${name}]; if (a === undefined) out[${name}] = a = []; while (r.pos < e) a.push(${val}); r.end = outer; continue; }\n`;
    cases += `${c}  break;\n`;
  });
  const qs = Array.from({ length: words }, (_, w) => `q${w}`);
  const full = Array.from({ length: words }, (_, w) => {
    const n = Math.min(32, type.required.length - w * 32);
    return n === 32 ? -1 : (2 ** n - 1) | 0;
  });
  // required fields are set before the end or the message is refused, so they can start in the literal
  // (numbers as 0, so the fields start with a numeric representation): one allocation, its final shape
  const literal = type.required.filter((f) => !sel || sel.has(f.name)).map((f) => `${JSON.stringify(f.name)}: ${initialValue(f)}`).join(', ');
  const body = `
    if (depth > ${MAX_DEPTH}) throw new WireError('messages nested too deeply', r.pos);
    const out = {${literal}};
    const buf = r.buf;
    const start = r.pos;
    let v = 0;${qs.map((q) => ` let ${q} = 0;`).join('')}
    while (r.pos < r.end) {
      const at = r.pos;
      let key = buf[at];
      if (key < 0x80) r.pos = at + 1; else key = r.varint32() >>> 0;
      const wt = key & 7;
      switch (key >>> 3) {
${cases}        case 0: r.fail('field number 0', at);
      }
      r.skip(wt, at);
    }
    ${words ? `if (${qs.map((q, w) => `${q} !== ${full[w]}`).join(' || ')}) missing(T, [${qs.join(', ')}], start);` : ''}
    return out;`;
  // eslint-disable-next-line no-new-func
  const make = new Function(...HELPER_NAMES, 'F', 'D', 'T', `${lazies}${RANGE}\nreturn function lean_${type.name.replace(/\W/g, '_')}(r, depth) {${body}\n};`);
  const fn = make(...HELPERS, fields, D, type) as LeanDecoder;
  byKey.set(key, fn);
  return fn;
}

// the bounds of a length-delimited value; the caller narrows r.end to them while reading it
const RANGE = `function range(r) {
  const len = r.varint32() >>> 0;
  const s = r.pos;
  if (len > r.end - s) r.fail('length ' + len + ' past the end of the message', s);
  return s + len;
}`;

function initialValue(f: FieldInfo): string {
  if (f.kind === 'message' || f.kind === 'string' || f.kind === 'bytes') return 'undefined';
  return f.kind === 'bool' ? 'false' : '0';
}

function subSelection(sel: FieldSelection | undefined, f: FieldInfo): FieldSelection | undefined {
  const s = sel?.get(f.name);
  return s === undefined || s === true ? undefined : s;
}

/** A lean decoder of one message type: decodes buf[start, end), throws WireError (offsets in buf). */
export function leanDecoderOf(type: MessageType, sel?: FieldSelection): (buf: Uint8Array, start: number, end: number) => Entry {
  const decode = leanDecoder(type, sel);
  // one reader per buffer, repositioned for each message: a pagemap has one message per page run
  let r: Reader | undefined;
  return (buf, start, end) => {
    if (r === undefined || r.buf !== buf) r = new Reader(buf, start, end);
    else {
      r.pos = start;
      r.end = end;
    }
    return decode(r, 0);
  };
}
