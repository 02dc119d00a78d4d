// crit's renderings of field values (its --pretty output) and their inverses for encode: flag and dict
// names, device numbers, IP addresses, base64 lines, quoted-printable unix names, Python's int().
import type { FieldInfo } from './schema.js';

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

export function encodeDev(f: FieldInfo, s: string): bigint {
  const parts = s.split(':').map((x) => parsePyInt(x, 10));
  if (parts.length !== 2) throw new Error(`expected major:minor, got "${s}"`);
  const [ma, mi] = parts;
  if (f.opts.odev) {
    return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
  }
  return (ma << 20n) | mi;
}

const ntohl = (v: number): number => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

export function formatIp(values: number[]): string {
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

export function parseIp(s: string): number[] {
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
export function base64Lines(b: Uint8Array): string {
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
export function quopriEncode(d: Uint8Array): string {
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
export function quopriDecode(s: string): Buffer {
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

/** Python's int(s, 0) (or base 10): 0x/0o/0b prefixes, sign, underscores, surrounding spaces. */
export function parsePyInt(s: string, base = 0): bigint {
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
