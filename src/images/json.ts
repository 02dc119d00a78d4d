// crit-compatible JSON: the same keys, value renderings and whitespace as `crit decode [--pretty]`
// (Python's json.dump, ensure_ascii, indent 4 when pretty), with 64-bit integers exact both ways.
import { CryoError } from '../errors.js';
import type { Image } from './image.js';
import { MAGICS } from './magic.js';
import { messageType, type FieldInfo, type MessageType } from './schema.js';
import { encodeMessage, type Entry } from './wire.js';

export interface JsonOptions {
  /** crit's --pretty: indent 4 and field-specific renderings (hex, IPs, flags, devices, dict names) */
  pretty?: boolean;
}

// ------------------------------------------------------------------ renderings crit applies

export const FLAG_MAPS: Record<string, [string, number][]> = {
  'mmap.prot': [['PROT_READ', 0x1], ['PROT_WRITE', 0x2], ['PROT_EXEC', 0x4]],
  'mmap.flags': [['MAP_SHARED', 0x1], ['MAP_PRIVATE', 0x2], ['MAP_DROPPABLE', 0x08], ['MAP_ANON', 0x20], ['MAP_GROWSDOWN', 0x0100]],
  'mmap.status': [
    ['VMA_AREA_NONE', 0], ['VMA_AREA_REGULAR', 1 << 0], ['VMA_AREA_STACK', 1 << 1], ['VMA_AREA_VSYSCALL', 1 << 2],
    ['VMA_AREA_VDSO', 1 << 3], ['VMA_AREA_HEAP', 1 << 5], ['VMA_FILE_PRIVATE', 1 << 6], ['VMA_FILE_SHARED', 1 << 7],
    ['VMA_ANON_SHARED', 1 << 8], ['VMA_ANON_PRIVATE', 1 << 9], ['VMA_AREA_SYSVIPC', 1 << 10], ['VMA_AREA_SOCKET', 1 << 11],
    ['VMA_AREA_VVAR', 1 << 12], ['VMA_AREA_AIORING', 1 << 13], ['VMA_AREA_MEMFD', 1 << 14], ['VMA_AREA_SHSTK', 1 << 15],
    ['VMA_AREA_UPROBES', 1 << 17], ['VMA_UNSUPP', 2 ** 31],
  ],
  'rfile.flags': [
    ['O_WRONLY', 0o1], ['O_RDWR', 0o2], ['O_CREAT', 0o100], ['O_EXCL', 0o200], ['O_NOCTTY', 0o400], ['O_TRUNC', 0o1000],
    ['O_APPEND', 0o2000], ['O_NONBLOCK', 0o4000], ['O_DSYNC', 0o10000], ['FASYNC', 0o20000], ['O_DIRECT', 0o40000],
    ['O_LARGEFILE', 0o100000], ['O_DIRECTORY', 0o200000], ['O_NOFOLLOW', 0o400000], ['O_NOATIME', 0o1000000],
    ['O_CLOEXEC', 0o2000000],
  ],
  'pmap.flags': [['PE_PARENT', 1 << 0], ['PE_LAZY', 1 << 1], ['PE_PRESENT', 1 << 2]],
  'seals.flags': [['F_SEAL_SEAL', 0x1], ['F_SEAL_SHRINK', 0x2], ['F_SEAL_GROW', 0x4], ['F_SEAL_WRITE', 0x8], ['F_SEAL_FUTURE_WRITE', 0x10]],
};

export const DICT_MAPS: Record<string, Record<string, Record<number, string>>> = {
  gen: { task_state: { 1: 'Alive', 3: 'Zombie', 6: 'Stopped' } },
  sk: {
    family: { 1: 'UNIX', 2: 'INET', 10: 'INET6', 16: 'NETLINK', 17: 'PACKET' },
    type: { 1: 'STREAM', 2: 'DGRAM', 3: 'RAW', 5: 'SEQPACKET', 10: 'PACKET' },
    state: { 1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE', 8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN' },
    proto: { 0: 'IP', 6: 'TCP', 17: 'UDP', 136: 'UDPLITE' },
  },
};

export const hex = (v: number | bigint): string => (v < 0 ? `-0x${(-BigInt(v)).toString(16)}` : `0x${v.toString(16)}`);

export function mapFlags(value: number | bigint, map: [string, number][]): string {
  if (typeof value === 'number' && value >= 0 && value <= 0xffffffff) {
    let n = value;
    let names = '';
    let all = 0;
    for (const [name, bit] of map) {
      if ((n & bit) !== 0) names = names ? `${names} | ${name}` : name;
      all |= bit;
    }
    n = (n & ~all) >>> 0;
    if (n) names = names ? `${names} | 0x${n.toString(16)}` : `0x${n.toString(16)}`;
    return names;
  }
  let v = BigInt(value);
  const names: string[] = [];
  let all = 0n;
  for (const [n, bit] of map) {
    if (v & BigInt(bit)) names.push(n);
    all += BigInt(bit);
  }
  v &= ~all;
  if (v) names.push(v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);
  return names.join(' | ');
}

export function decodeDev(f: FieldInfo, value: number | bigint): string {
  const v = BigInt(value);
  if (f.opts.odev) {
    // glibc's major()/minor()
    const major = ((v >> 8n) & 0xfffn) | ((v >> 32n) & ~0xfffn & 0xffffffffn);
    const minor = (v & 0xffn) | ((v >> 12n) & ~0xffn & 0xffffffffn);
    return `${major}:${minor}`;
  }
  return `${v >> 20n}:${v & 0xfffffn}`;
}

function encodeDev(f: FieldInfo, s: string): bigint {
  const parts = s.split(':').map((x) => parsePyInt(x, 10));
  if (parts.length !== 2) throw new Error(`expected major:minor, got "${s}"`);
  const [ma, mi] = parts;
  if (f.opts.odev) {
    return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
  }
  return (ma << 20n) | mi;
}

const ntohl = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

function formatIp(values: number[]): string {
  if (values.length === 1) {
    const v = ntohl(values[0]);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  if (values.length < 4) throw new Error('an IPv6 address needs 4 words');
  const hextets: string[] = [];
  for (let i = 0; i < 4; i++) {
    const v = ntohl(values[i]);
    hextets.push((v >>> 16).toString(16), (v & 0xffff).toString(16));
  }
  // Python's ipaddress: the longest run (first on ties) of 2+ zero groups becomes '::'
  let bestStart = -1;
  let bestLen = 0;
  let start = -1;
  let len = 0;
  hextets.forEach((h, i) => {
    if (h === '0') {
      len++;
      if (start === -1) start = i;
      if (len > bestLen) { bestLen = len; bestStart = start; }
    } else { len = 0; start = -1; }
  });
  if (bestLen > 1) {
    const end = bestStart + bestLen;
    if (end === hextets.length) hextets.push('');
    hextets.splice(bestStart, bestLen, '');
    if (bestStart === 0) hextets.unshift('');
  }
  return hextets.join(':');
}

function parseIp(s: string): number[] {
  const htonl = ntohl;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    const p = s.split('.').map(Number);
    if (p.some((x) => x > 255)) throw new Error(`bad IPv4 address "${s}"`);
    return [htonl(((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0)];
  }
  let t = s;
  let tail4: number[] = [];
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (m) {
    const v = ntohl(parseIp(m[2])[0]);
    tail4 = [v >>> 16, v & 0xffff];
    t = `${m[1]}`.replace(/:$/, m[1].endsWith('::') ? ':' : '');
  }
  const halves = t.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address "${s}"`);
  const parse = (x: string): number[] => (x === '' ? [] : x.split(':').map((h) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw new Error(`bad IPv6 address "${s}"`);
    return parseInt(h, 16);
  }));
  const head = parse(halves[0]);
  const back = halves.length === 2 ? parse(halves[1]) : [];
  const total = 8 - tail4.length;
  const fill = halves.length === 2 ? total - head.length - back.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== total)) throw new Error(`bad IPv6 address "${s}"`);
  const groups = [...head, ...new Array(fill).fill(0), ...back, ...tail4];
  const out: number[] = [];
  for (let i = 0; i < 8; i += 2) out.push(htonl(((groups[i] << 16) | groups[i + 1]) >>> 0));
  return out;
}

// Python's base64.encodebytes: 76-character lines, each ending in '\n'
function base64Lines(b: Uint8Array): string {
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
  if (s.length === 0) return '';
  if (s.length <= 76) return `${s}\n`;
  let out = '';
  for (let i = 0; i < s.length; i += 76) out += `${s.slice(i, i + 76)}\n`;
  return out;
}

const QP_MAX = 76;
const HEXU = '0123456789ABCDEF';

// Python's quopri.encodestring (binascii.b2a_qp with istext, no quotetabs, no header)
function quopriEncode(d: Uint8Array): string {
  const nl = d.indexOf(10);
  const crlf = nl > 0 && d[nl - 1] === 13;
  const out: number[] = [];
  const esc = (c: number) => { out.push(61, HEXU.charCodeAt(c >> 4), HEXU.charCodeAt(c & 15)); };
  const soft = () => { out.push(61); if (crlf) out.push(13); out.push(10); };
  let line = 0;
  let i = 0;
  const n = d.length;
  while (i < n) {
    const c = d[i];
    if (c > 126 || c === 61
      || (c === 46 && line === 0 && (i + 1 === n || d[i + 1] === 10 || d[i + 1] === 13 || d[i + 1] === 0))
      || ((c === 9 || c === 32) && i + 1 === n)
      || (c < 33 && c !== 13 && c !== 10 && c !== 9 && c !== 32)) {
      if (line + 3 >= QP_MAX) { soft(); line = 0; }
      esc(c);
      i++;
      line += 3;
    } else if (c === 10 || (i + 1 < n && c === 13 && d[i + 1] === 10)) {
      line = 0;
      const last = out.length ? out[out.length - 1] : -1;
      if (last === 32 || last === 9) { out.pop(); esc(last); }
      if (crlf) out.push(13);
      out.push(10);
      i += c === 13 ? 2 : 1;
    } else {
      if (i + 1 !== n && d[i + 1] !== 10 && line + 1 >= QP_MAX) { soft(); line = 0; }
      line++;
      out.push(c);
      i++;
    }
  }
  return Buffer.from(out).toString('latin1');
}

// Python's quopri.decodestring (binascii.a2b_qp)
function quopriDecode(s: string): Buffer {
  const d = Buffer.from(s, 'latin1');
  const out: number[] = [];
  const isHex = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
  let i = 0;
  while (i < d.length) {
    if (d[i] === 61) {
      i++;
      if (i >= d.length) break;
      if (d[i] === 10 || d[i] === 13) {
        if (d[i] !== 10) while (i < d.length && d[i] !== 10) i++;
        if (i < d.length) i++;
      } else if (d[i] === 61) {
        out.push(61);
        i++;
      } else if (i + 1 < d.length && isHex(d[i]) && isHex(d[i + 1])) {
        out.push(parseInt(String.fromCharCode(d[i], d[i + 1]), 16));
        i += 2;
      } else out.push(61);
    } else out.push(d[i++]);
  }
  return Buffer.from(out);
}

// ------------------------------------------------------------------ entry -> JSON value tree

/** A JSON value with exact integers: bigint for integers, number only for small ones. */
type J = null | boolean | number | bigint | string | J[] | { [k: string]: J };

function castValue(f: FieldInfo, v: unknown, pretty: boolean, isHex: boolean): J | undefined {
  switch (f.kind) {
    case 'message': return entryToJ(f.messageType!, v as Entry, pretty, isHex || f.opts.hex === true);
    case 'bytes': return f.opts.conv === 'unix_name' ? quopriEncode(v as Buffer) : base64Lines(v as Buffer);
    case 'enum': return f.enumType!.byNumber.get(v as number);
    case 'bool': return v as boolean;
    case 'string': return v as string;
    case 'double': case 'float': return v as number;
  }
  const n = v as number | bigint;
  if (pretty) {
    if (isHex || f.opts.hex) return hex(n);
    if (f.opts.dev) return decodeDev(f, n);
    if (f.opts.flags) {
      const map = FLAG_MAPS[f.opts.flags];
      return map ? mapFlags(n, map) : hex(n);
    }
    if (f.opts.dict) {
      const name = DICT_MAPS[f.opts.dict]?.[f.name]?.[Number(n)];
      return name ?? n;
    }
  }
  return n;
}

function entryToJ(type: MessageType, e: Entry, pretty: boolean, isHex = false): { [k: string]: J } {
  const out: { [k: string]: J } = {};
  for (const f of type.fields) {
    const v = e[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      const arr = v as unknown[];
      if (arr.length === 0) continue;
      // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
      if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
        out[f.name] = [formatIp(arr as number[])];
        continue;
      }
      const vals: J[] = [];
      for (const x of arr) {
        const c = castValue(f, x, pretty, isHex);
        if (c !== undefined) vals.push(c);
      }
      if (vals.length) out[f.name] = vals;
    } else {
      const c = castValue(f, v, pretty, isHex);
      if (c !== undefined) out[f.name] = c;
    }
  }
  return out;
}

function extraToJ(kind: string | undefined, x: unknown): J {
  if (x instanceof Uint8Array) return base64Lines(x);
  if (typeof x === 'string') return x;
  if (kind === 'tcp-stream') {
    const t = x as { inq: Buffer; outq: Buffer };
    return { inq: base64Lines(t.inq), outq: base64Lines(t.outq) };
  }
  if (kind === 'ipc-sem') return x as number[];
  if (kind === 'ipc-msg') {
    const mt = messageType('ipc_msg');
    return (x as unknown[]).map((v, i) => (i % 2 === 0 ? entryToJ(mt, v as Entry, false) : base64Lines(v as Buffer)));
  }
  throw new Error(`cannot render payload of kind ${kind}`);
}

/** The payload size crit's `show --nopl` reports for an entry's extra. */
export function payloadSize(magic: string, e: Entry): number {
  const x = e.extra;
  switch (MAGICS.get(magic)?.extra) {
    case 'pipe-data': return Number(e.bytes);
    case 'sk-queue': return Number(e.length);
    case 'tcp-stream': return Number(e.inq_len) + Number(e.outq_len);
    case 'ipc-sem': return 2 * Number(e.nsems);
    case 'ipc-shm': return Number(e.size);
    case 'ipc-msg': {
      const mt = messageType('ipc_msg');
      let n = 0;
      const arr = x as unknown[];
      for (let i = 0; i + 1 < arr.length; i += 2) n += encodeMessage(mt, arr[i] as Entry).length + Number((arr[i] as Entry).msize);
      return n;
    }
  }
  return x instanceof Uint8Array ? x.length : 0;
}

// ------------------------------------------------------------------ serializer (Python json.dump)
// ensure_ascii makes the output pure ASCII, so it is written straight into a byte buffer.

export class Out {
  buf: Buffer;
  len = 0;
  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  grow(n: number): void {
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** x must be ASCII; short strings are copied by hand, which beats Buffer.write's call overhead */
  ascii(x: string): void {
    const n = x.length;
    if (this.len + n > this.buf.length) this.grow(n);
    if (n < 64) {
      const b = this.buf;
      let l = this.len;
      for (let i = 0; i < n; i++) b[l++] = x.charCodeAt(i);
      this.len = l;
    } else this.len += this.buf.write(x, this.len, 'latin1');
  }

  /** a JSON string; escapes only when needed */
  str(x: string): void {
    if (NEEDS_ESCAPE.test(x)) { this.ascii(quote(x)); return; }
    const n = x.length;
    if (this.len + n + 2 > this.buf.length) this.grow(n + 2);
    this.buf[this.len++] = 34;
    this.ascii(x);
    this.buf[this.len++] = 34;
  }

  int(v: number): void {
    if (v >= 0 && v < 1e15 && Number.isInteger(v)) {
      if (this.len + 16 > this.buf.length) this.grow(16);
      const b = this.buf;
      if (v < 10) { b[this.len++] = 48 + v; return; }
      let digits = 0;
      for (let t = v; t >= 1; t = Math.floor(t / 10)) digits++;
      let l = this.len + digits;
      this.len = l;
      for (let t = v; t >= 1; t = Math.floor(t / 10)) b[--l] = 48 + (t % 10);
    } else this.ascii(numberText(v));
  }

  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  text(): string {
    return this.buf.toString('latin1', 0, this.len);
  }
}

const NEEDS_ESCAPE = /[\u0000-\u001f"\\\u0080-\uffff]/;

function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c < 0x20 || c > 0x7e) {
      if (c === 0x7f) out += s[i];
      else out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else out += s[i];
  }
  return `${out}"`;
}

function numberText(v: number): string {
  if (Number.isInteger(v)) return String(v);
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  return pyFloatRepr(v);
}

// Python's float repr: shortest round-trip digits, exponent form outside [1e-4, 1e16)
function pyFloatRepr(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e16 || abs < 1e-4) {
    const [m, e] = v.toExponential().split('e');
    const exp = Number(e);
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  return s.includes('.') ? s : `${s}.0`;
}

const INDENTS: string[] = [];
export function nl(level: number): string {
  return (INDENTS[level] ??= `\n${'    '.repeat(level)}`);
}

function writeJ(o: Out, v: J, pretty: boolean, level: number): void {
  if (v === null) o.ascii('null');
  else if (typeof v === 'string') o.str(v);
  else if (typeof v === 'number') o.int(v);
  else if (typeof v === 'bigint') o.ascii(v.toString());
  else if (typeof v === 'boolean') o.ascii(v ? 'true' : 'false');
  else if (Array.isArray(v)) {
    if (v.length === 0) { o.ascii('[]'); return; }
    o.ascii('[');
    for (let i = 0; i < v.length; i++) {
      if (pretty) o.ascii(i ? `,${nl(level + 1)}` : nl(level + 1));
      else if (i) o.ascii(', ');
      writeJ(o, v[i], pretty, level + 1);
    }
    o.ascii(pretty ? `${nl(level)}]` : ']');
  } else {
    const keys = Object.keys(v);
    if (keys.length === 0) { o.ascii('{}'); return; }
    o.ascii('{');
    for (let i = 0; i < keys.length; i++) {
      if (pretty) o.ascii(i ? `,${nl(level + 1)}` : nl(level + 1));
      else if (i) o.ascii(', ');
      o.str(keys[i]);
      o.ascii(': ');
      writeJ(o, v[keys[i]], pretty, level + 1);
    }
    o.ascii(pretty ? `${nl(level)}}` : '}');
  }
}

/** Serialize like Python's json.dumps (ensure_ascii; indent 4 when pretty). Integers may be bigint. */
export function stringifyJson(v: unknown, pretty = false): string {
  const o = new Out();
  writeJ(o, v as J, pretty, 0);
  return o.text();
}

const KEYS = new WeakMap<FieldInfo, string>();
export function keyOf(f: FieldInfo): string {
  let k = KEYS.get(f);
  if (k === undefined) KEYS.set(f, (k = `${quote(f.name)}: `));
  return k;
}

// Entries are written field by field, without building an intermediate object tree.
const OPENS: string[] = [];
const COMMAS: string[] = [];
/** what starts the next key at this nesting level: '{' or ',' plus the newline and indent when pretty */
export function sepOf(first: boolean, pretty: boolean, level: number): string {
  if (!pretty) return first ? '{' : ', ';
  return first ? (OPENS[level] ??= `{${nl(level + 1)}`) : (COMMAS[level] ??= `,${nl(level + 1)}`);
}

/** Write one scalar as crit renders it; false (and nothing written) for what crit would not list. */
export function writeScalar(o: Out, f: FieldInfo, v: unknown, pretty: boolean, isHex: boolean): void {
  switch (f.kind) {
    case 'bytes':
      if (f.opts.conv === 'unix_name') o.str(quopriEncode(v as Buffer));
      else o.ascii(`"${base64Lines(v as Buffer).replaceAll('\n', '\\n')}"`);
      return;
    case 'enum': o.ascii(`"${f.enumType!.byNumber.get(v as number)}"`); return;
    case 'bool': o.ascii(v ? 'true' : 'false'); return;
    case 'string': o.str(v as string); return;
    case 'double': case 'float': o.ascii(numberText(v as number)); return;
  }
  if (pretty) {
    const n = v as number | bigint;
    if (isHex || f.opts.hex) { o.ascii(`"${hex(n)}"`); return; }
    if (f.opts.dev) { o.ascii(`"${decodeDev(f, n)}"`); return; }
    if (f.opts.flags) {
      const map = FLAG_MAPS[f.opts.flags];
      o.ascii(`"${map ? mapFlags(n, map) : hex(n)}"`);
      return;
    }
    if (f.opts.dict) {
      const name = DICT_MAPS[f.opts.dict]?.[f.name]?.[Number(n)];
      if (name !== undefined) { o.ascii(`"${name}"`); return; }
    }
  }
  if (typeof v === 'number') o.int(v);
  else o.ascii((v as bigint).toString());
}

// Entries are written field by field, straight from the decoded objects.
function writeEntry(o: Out, type: MessageType, e: Entry, pretty: boolean, isHex: boolean, level: number, extra?: () => J): void {
  let first = true;
  const fields = type.fields;
  for (let fi = 0; fi < fields.length; fi++) {
    const f = fields[fi];
    const v = e[f.name];
    if (v === undefined || v === null) continue;
    if (f.repeated) {
      let arr = v as unknown[];
      if (arr.length === 0) continue;
      // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
      if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
        o.ascii(sepOf(first, pretty, level));
        first = false;
        o.ascii(keyOf(f));
        writeJ(o, [formatIp(arr as number[])], pretty, level + 1);
        continue;
      }
      if (f.kind === 'enum') {
        arr = arr.filter((x) => f.enumType!.byNumber.has(x as number));
        if (arr.length === 0) continue;
      }
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      o.ascii('[');
      const deeper = pretty ? nl(level + 2) : '';
      const hexInside = isHex || f.opts.hex === true;
      for (let i = 0; i < arr.length; i++) {
        if (pretty) o.ascii(i ? `,${deeper}` : deeper);
        else if (i) o.ascii(', ');
        if (f.kind === 'message') writeEntry(o, f.messageType!, arr[i] as Entry, pretty, hexInside, level + 2);
        else writeScalar(o, f, arr[i], pretty, isHex);
      }
      o.ascii(pretty ? `${nl(level + 1)}]` : ']');
    } else if (f.kind === 'message') {
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      writeEntry(o, f.messageType!, v as Entry, pretty, isHex || f.opts.hex === true, level + 1);
    } else {
      // proto2 keeps unknown enum values out of the listed fields: crit does not show them
      if (f.kind === 'enum' && !f.enumType!.byNumber.has(v as number)) continue;
      o.ascii(sepOf(first, pretty, level));
      first = false;
      o.ascii(keyOf(f));
      writeScalar(o, f, v, pretty, isHex);
    }
  }
  if (extra) {
    o.ascii(sepOf(first, pretty, level));
    first = false;
    o.ascii('"extra": ');
    writeJ(o, extra(), pretty, level + 1);
  }
  o.ascii(first ? '{}' : (pretty ? `${nl(level)}}` : '}'));
}

// ------------------------------------------------------------------ specialised writers
// One generated function per (message type, pretty, hex) writes an entry with direct property reads and
// the rendering decided once: several times faster than the generic walk on a cold start, same output
// (the unit tests compare both on every fixture).

type EntryWriter = (o: Out, e: Entry, level: number, extra?: () => J) => void;
const WRITERS = new Map<string, EntryWriter>();

const HELPERS = {
  sepOf, keyOf, hex, mapFlags, decodeDev, formatIp, quopriEncode, base64Lines, numberText, writeJ, writeScalar,
  writeEntry: (o: Out, type: MessageType, e: Entry, pretty: boolean, isHex: boolean, level: number) =>
    writerFor(type, pretty, isHex)(o, e, level),
};

function scalarCode(f: FieldInfo, i: number, pretty: boolean, isHex: boolean): string {
  const F = `F[${i}]`;
  switch (f.kind) {
    case 'bytes':
      return f.opts.conv === 'unix_name' ? `o.str(H.quopriEncode(v));`
        : `o.ascii('"' + H.base64Lines(v).replaceAll('\\n', '\\\\n') + '"');`;
    case 'enum': return `o.ascii('"' + name + '"');`;
    case 'bool': return `o.ascii(v ? 'true' : 'false');`;
    case 'string': return `o.str(v);`;
    case 'double': case 'float': return `o.ascii(H.numberText(v));`;
    case 'message': return '';
  }
  const plain = `if (typeof v === 'number') o.int(v); else o.ascii(v.toString());`;
  if (!pretty) return plain;
  if (isHex || f.opts.hex) return `o.ascii('"' + H.hex(v) + '"');`;
  if (f.opts.dev) return `o.ascii('"' + H.decodeDev(${F}, v) + '"');`;
  if (f.opts.flags) {
    return FLAG_MAPS[f.opts.flags] ? `o.ascii('"' + H.mapFlags(v, M[${i}]) + '"');` : `o.ascii('"' + H.hex(v) + '"');`;
  }
  if (f.opts.dict && DICT_MAPS[f.opts.dict]?.[f.name]) {
    return `{ const d = M[${i}][Number(v)]; if (d !== undefined) o.ascii('"' + d + '"'); else { ${plain} } }`;
  }
  return plain;
}

function writerFor(type: MessageType, pretty: boolean, isHex: boolean): EntryWriter {
  const key = `${type.name}|${pretty ? 1 : 0}|${isHex ? 1 : 0}`;
  let w = WRITERS.get(key);
  if (w) return w;
  const fields = type.fields;
  const M = fields.map((f) => (f.opts.flags ? FLAG_MAPS[f.opts.flags] : f.opts.dict ? DICT_MAPS[f.opts.dict]?.[f.name] : undefined));
  const E = fields.map((f) => f.enumType?.byNumber);
  const K = fields.map((f) => keyOf(f));
  const subs: (EntryWriter | undefined)[] = [];
  const S = fields.map((f, i) => () => (subs[i] ??= writerFor(f.messageType!, pretty, isHex || f.opts.hex === true)));
  let body = 'let first = true; let v;\n';
  fields.forEach((f, i) => {
    body += `v = e[${JSON.stringify(f.name)}];\nif (v !== undefined && v !== null) {\n`;
    if (f.repeated) {
      body += `if (v.length !== 0) first = H.writeRepeated(o, F[${i}], v, first, ${pretty}, ${isHex}, level);\n`;
    } else if (f.kind === 'message') {
      body += `o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); S[${i}]()(o, v, level + 1);\n`;
    } else if (f.kind === 'enum') {
      body += `const name = E[${i}].get(v);\nif (name !== undefined) { o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); ${scalarCode(f, i, pretty, isHex)} }\n`;
    } else {
      body += `o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii(K[${i}]); ${scalarCode(f, i, pretty, isHex)}\n`;
    }
    body += '}\n';
  });
  body += `if (extra) { o.ascii(H.sepOf(first, ${pretty}, level)); first = false; o.ascii('"extra": '); H.writeJ(o, extra(), ${pretty}, level + 1); }\n`;
  body += `o.ascii(first ? '{}' : ${pretty ? "H.nl(level) + '}'" : "'}'"});`;
  // eslint-disable-next-line no-new-func
  const make = new Function('H', 'F', 'M', 'E', 'K', 'S', `return function write(o, e, level, extra) {\n${body}\n};`);
  w = make({ ...HELPERS, nl, writeRepeated }, fields, M, E, K, S) as EntryWriter;
  WRITERS.set(key, w);
  return w;
}

/** A non-empty repeated field, rendered as crit does; returns the new `first`. */
function writeRepeated(o: Out, f: FieldInfo, v: unknown[], first: boolean, pretty: boolean, isHex: boolean, level: number): boolean {
  let arr = v;
  // crit only renders 1 (IPv4) or 4+ (IPv6) words as an address
  if (pretty && f.opts.ipadd && (arr.length === 1 || arr.length >= 4)) {
    o.ascii(sepOf(first, pretty, level));
    o.ascii(keyOf(f));
    writeJ(o, [formatIp(arr as number[])], pretty, level + 1);
    return false;
  }
  if (f.kind === 'enum') {
    arr = arr.filter((x) => f.enumType!.byNumber.has(x as number));
    if (arr.length === 0) return first;
  }
  o.ascii(sepOf(first, pretty, level));
  o.ascii(keyOf(f));
  o.ascii('[');
  const deeper = pretty ? nl(level + 2) : '';
  const sub = f.kind === 'message' ? writerFor(f.messageType!, pretty, isHex || f.opts.hex === true) : undefined;
  for (let i = 0; i < arr.length; i++) {
    if (pretty) o.ascii(i ? `,${deeper}` : deeper);
    else if (i) o.ascii(', ');
    if (sub) sub(o, arr[i] as Entry, level + 2);
    else writeScalar(o, f, arr[i], pretty, isHex);
  }
  o.ascii(pretty ? `${nl(level + 1)}]` : ']');
  return false;
}

/** Which entry writer imageToJson uses: 'generated' (default) or the generic reference walk. */
let useGenerated = true;
export function setJsonWriterForTests(kind: 'generated' | 'generic'): void {
  useGenerated = kind === 'generated';
}

function writeImage(o: Out, img: Image, pretty: boolean): void {
  if (img.magic === 'RAW') {
    throw new CryoError('BAD_IMAGE', 'a raw image (pages-*.img and the like) has no entries to render as JSON', {
      hint: 'raw images hold memory pages or tool output; inspect them with other tools',
    });
  }
  const info = MAGICS.get(img.magic);
  if (!info) throw new CryoError('BAD_IMAGE', `unknown magic name ${JSON.stringify(img.magic)}`);
  o.ascii(pretty ? `{${nl(1)}"magic": ${quote(img.magic)},${nl(1)}"entries": ` : `{"magic": ${quote(img.magic)}, "entries": `);
  const entries = img.entries;
  if (entries.length === 0) o.ascii('[]');
  else {
    o.ascii('[');
    const sep = pretty ? `,${nl(2)}` : ', ';
    const main = info.message ? messageType(info.message) : undefined;
    for (let i = 0; i < entries.length; i++) {
      o.ascii(i ? sep : (pretty ? nl(2) : ''));
      const e = entries[i];
      let mt: MessageType | undefined = main;
      if (info.framing === 'pagemap') mt = messageType(i === 0 ? 'pagemap_head' : 'pagemap_entry');
      else if (info.framing === 'ghost') mt = messageType(i === 0 ? 'ghost_file_entry' : 'ghost_chunk_entry');
      const extra = e.extra !== undefined ? () => extraToJ(info.extra, e.extra) : undefined;
      if (mt) {
        if (useGenerated) writerFor(mt, pretty, false)(o, e, 2, extra);
        else writeEntry(o, mt, e, pretty, false, 2, extra);
      }
      else writeJ(o, extra ? { extra: extra() } : {}, pretty, 2);
    }
    o.ascii(pretty ? `${nl(1)}]` : ']');
  }
  o.ascii(pretty ? '\n}' : '}');
}

/** An image as crit's JSON text (no trailing newline; crit adds one only on stdout). */
export function imageToJson(img: Image, opts: JsonOptions = {}): string {
  return imageToJsonBuffer(img, opts).toString('latin1');
}

/** The same as imageToJson, as ASCII bytes (what the CLI writes). */
export function imageToJsonBuffer(img: Image, opts: JsonOptions = {}): Buffer {
  // about what a VMA entry takes, so large images are rarely copied while growing
  const o = new Out(Math.min(1 << 28, Math.max(1 << 16, (img.entries?.length ?? 0) * (opts.pretty ? 420 : 140))));
  writeImage(o, img, opts.pretty === true);
  return o.result();
}

// ------------------------------------------------------------------ parser (bigint-exact)

const MAX_JSON_DEPTH = 512;

class JsonParseError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** Parse JSON; integers outside the safe range become bigint so nothing is rounded. */
export function parseJson(text: string): unknown {
  let i = 0;
  const n = text.length;
  const fail = (msg: string): never => { throw new JsonParseError(msg, i); };
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 10 || c === 13 || c === 9) i++;
      else break;
    }
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_JSON_DEPTH) fail('nested too deeply');
    ws();
    if (i >= n) fail('unexpected end of input');
    const c = text[i];
    if (c === '{') {
      i++;
      const o: Record<string, unknown> = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        const v = value(depth + 1);
        if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        else o[k] = v;
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return o; }
        fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: unknown[] = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return a; }
        fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) { i += 4; return true; }
    if (text.startsWith('false', i)) { i += 5; return false; }
    if (text.startsWith('null', i)) { i += 4; return null; }
    if (text.startsWith('NaN', i)) { i += 3; return NaN; }
    if (text.startsWith('Infinity', i)) { i += 8; return Infinity; }
    if (text.startsWith('-Infinity', i)) { i += 9; return -Infinity; }
    const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = i;
    const r = m.exec(text);
    if (!r || r[0].length === 0 || r[0] === '-') fail(`unexpected character ${JSON.stringify(c)}`);
    i += r![0].length;
    if (r![2] === undefined && r![3] === undefined) {
      const num = Number(r![0]);
      return Number.isSafeInteger(num) ? num : BigInt(r![0]);
    }
    return Number(r![0]);
  };
  const str = (): string => {
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 34) { out += text.slice(start, i); i++; return out; }
      if (c < 0x20) fail('control character in string');
      if (c === 92) {
        out += text.slice(start, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const h = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('bad \\u escape');
            out += String.fromCharCode(parseInt(h, 16));
            i += 4;
            break;
          }
          default: i -= 2; fail('bad escape');
        }
        start = i;
      } else i++;
    }
  };
  const v = value(0);
  ws();
  if (i < n) fail('trailing characters after the JSON value');
  return v;
}

// ------------------------------------------------------------------ JSON value tree -> entry (crit's dict2pb)

/** Python's int(s, 0) (or base 10): 0x/0o/0b prefixes, sign, underscores, surrounding spaces. */
function parsePyInt(s: string, base = 0): bigint {
  const t = s.trim().replace(/(?<=[0-9a-fA-F])_(?=[0-9a-fA-F])/g, '');
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+)$/.exec(t);
  if (!m) throw new Error(`invalid integer "${s}"`);
  let body = m[2];
  if (base === 0 && /^0\d/.test(body) && !/^0+$/.test(body)) throw new Error(`invalid integer "${s}"`);
  if (base === 10 && /^0[xXoObB]/.test(body)) throw new Error(`invalid integer "${s}"`);
  if (/^0[oO]/.test(body)) body = `0o${body.slice(2)}`;
  const v = BigInt(body);
  return m[1] === '-' ? -v : v;
}

class FromJsonError extends Error {
  constructor(message: string, readonly path: string) {
    super(`${path}: ${message}`);
  }
}

function intFromJ(f: FieldInfo, v: unknown, path: string): number | bigint {
  let b: bigint;
  if (typeof v === 'string') {
    try {
      if (f.opts.dev) b = encodeDev(f, v);
      else if (f.opts.flags && FLAG_MAPS[f.opts.flags]) {
        const map = new Map(FLAG_MAPS[f.opts.flags]);
        b = v === '' ? 0n : v.split('|').map((x) => x.trim()).reduce((acc, x) => {
          const bit = map.get(x);
          return acc + (bit !== undefined ? BigInt(bit) : parsePyInt(x));
        }, 0n);
      } else if (f.opts.dict && DICT_MAPS[f.opts.dict]?.[f.name]) {
        const entry = Object.entries(DICT_MAPS[f.opts.dict][f.name]).find(([, name]) => name === v);
        b = entry ? BigInt(entry[0]) : parsePyInt(v);
      } else b = parsePyInt(v);
    } catch (e) {
      throw new FromJsonError((e as Error).message, path);
    }
  } else if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isFinite(v)) b = BigInt(Math.trunc(v));
  else if (typeof v === 'boolean') b = v ? 1n : 0n;
  else throw new FromJsonError(`expected an integer, got ${v === null ? 'null' : typeof v}`, path);
  return f.is64 ? b : Number(b);
}

function valueFromJ(f: FieldInfo, v: unknown, path: string): unknown {
  switch (f.kind) {
    case 'message': return entryFromJ(f.messageType!, v, path);
    case 'bytes':
      if (typeof v !== 'string') throw new FromJsonError('expected a string', path);
      return f.opts.conv === 'unix_name' ? quopriDecode(v) : Buffer.from(v, 'base64');
    case 'enum': {
      if (typeof v === 'string') {
        const n = f.enumType!.byName.get(v);
        if (n === undefined) throw new FromJsonError(`unknown ${f.enumType!.name} value "${v}"`, path);
        return n;
      }
      if (typeof v === 'number' && Number.isInteger(v)) return v;
      throw new FromJsonError(`expected an enum name, got ${typeof v}`, path);
    }
    case 'bool':
      if (typeof v === 'boolean') return v;
      if (v === 0 || v === 1) return v === 1;
      throw new FromJsonError(`expected true or false, got ${typeof v}`, path);
    case 'string':
      if (typeof v !== 'string') throw new FromJsonError(`expected a string, got ${typeof v}`, path);
      return v;
    case 'double': case 'float':
      if (typeof v !== 'number') throw new FromJsonError(`expected a number, got ${typeof v}`, path);
      return v;
  }
  return intFromJ(f, v, path);
}

function entryFromJ(type: MessageType, v: unknown, path: string): Entry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FromJsonError('expected an object', path);
  const o = v as Record<string, unknown>;
  const out: Entry = {};
  for (const f of type.fields) {
    if (!Object.prototype.hasOwnProperty.call(o, f.name)) continue;
    const x = o[f.name];
    const fpath = `${path}.${f.name}`;
    if (f.repeated) {
      if (!Array.isArray(x)) throw new FromJsonError('expected an array', fpath);
      if (f.opts.ipadd && typeof x[0] === 'string') {
        try {
          out[f.name] = parseIp(x[0]);
        } catch (e) {
          throw new FromJsonError((e as Error).message, fpath);
        }
        continue;
      }
      out[f.name] = x.map((y, i) => valueFromJ(f, y, `${fpath}[${i}]`));
    } else out[f.name] = valueFromJ(f, x, fpath);
  }
  return out;
}

function b64(v: unknown, path: string): Buffer {
  if (typeof v !== 'string') throw new FromJsonError('expected a base64 string', path);
  return Buffer.from(v, 'base64');
}

function extraFromJ(kind: string | undefined, x: unknown, path: string): unknown {
  switch (kind) {
    case 'tcp-stream': {
      if (typeof x !== 'object' || x === null) throw new FromJsonError('expected {inq, outq}', path);
      const t = x as Record<string, unknown>;
      return { inq: b64(t.inq, `${path}.inq`), outq: b64(t.outq, `${path}.outq`) };
    }
    case 'ipc-sem':
      if (!Array.isArray(x)) throw new FromJsonError('expected an array of numbers', path);
      return x.map((n, i) => {
        if (typeof n !== 'number') throw new FromJsonError('expected a number', `${path}[${i}]`);
        return n;
      });
    case 'ipc-msg': {
      if (!Array.isArray(x)) throw new FromJsonError('expected [message, data, ...]', path);
      const mt = messageType('ipc_msg');
      return x.map((y, i) => (i % 2 === 0 ? entryFromJ(mt, y, `${path}[${i}]`) : b64(y, `${path}[${i}]`)));
    }
    default:
      return b64(x, path);
  }
}

/** Build an image from crit's (or cryo's) JSON: text or an already parsed value. */
export function imageFromJson(input: string | unknown, name = '<input>'): Image {
  let v: unknown = input;
  if (typeof input === 'string') {
    try {
      v = parseJson(input);
    } catch (e) {
      const off = e instanceof JsonParseError ? e.offset : 0;
      throw new CryoError('BAD_IMAGE', `${name}: invalid JSON at offset ${off}: ${(e as Error).message}`, {
        hint: 'encode expects the JSON that `cryo decode` or `crit decode` writes',
        details: { file: name, offset: off },
      });
    }
  }
  try {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new FromJsonError('expected an object {magic, entries}', '$');
    const o = v as Record<string, unknown>;
    if (typeof o.magic !== 'string') throw new FromJsonError('expected a magic name', '$.magic');
    const info = MAGICS.get(o.magic);
    if (!info) throw new FromJsonError(`unknown magic "${o.magic}"`, '$.magic');
    if (!Array.isArray(o.entries)) throw new FromJsonError('expected an array', '$.entries');
    const entries = o.entries.map((e, i) => {
      const path = `$.entries[${i}]`;
      let mt: MessageType | undefined;
      if (info.framing === 'pagemap') mt = messageType(i === 0 ? 'pagemap_head' : 'pagemap_entry');
      else if (info.framing === 'ghost') mt = messageType(i === 0 ? 'ghost_file_entry' : 'ghost_chunk_entry');
      else if (info.message) mt = messageType(info.message);
      const entry = mt ? entryFromJ(mt, e, path) : {};
      const x = (e as Record<string, unknown>)?.extra;
      if (x !== undefined && x !== null) entry.extra = extraFromJ(info.framing === 'entries' ? info.extra : undefined, x, `${path}.extra`);
      return entry;
    });
    return { magic: info.name, entries };
  } catch (e) {
    if (e instanceof FromJsonError) {
      throw new CryoError('BAD_IMAGE', `${name}: ${e.message}`, {
        hint: 'encode expects the JSON that `cryo decode` or `crit decode` writes', details: { file: name, path: e.path },
      });
    }
    throw e;
  }
}
