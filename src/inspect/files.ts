// Open files of a checkpoint (files.img), described as crit does and as structured data.
import type { Entry, ImageDir } from './images.js';

export const FD_TYPES: Record<number, string> = {
  0: 'UND', 1: 'REG', 2: 'PIPE', 3: 'FIFO', 4: 'INETSK', 5: 'UNIXSK', 6: 'EVENTFD', 7: 'EVENTPOLL', 8: 'INOTIFY',
  9: 'SIGNALFD', 10: 'PACKETSK', 11: 'TTY', 12: 'FANOTIFY', 13: 'NETLINKSK', 14: 'NS', 15: 'TUNF', 16: 'EXT',
  17: 'TIMERFD', 18: 'MEMFD', 19: 'BPFMAP', 20: 'PIDFD', 65534: 'CTL_TTY', 65535: 'AUTOFS_PIPE',
};

const SOCK_TYPES: Record<number, string> = { 1: 'stream', 2: 'dgram', 3: 'raw', 4: 'rdm', 5: 'seqpacket', 10: 'packet' };
const TCP_STATES: Record<number, string> = {
  1: 'ESTABLISHED', 2: 'SYN_SENT', 3: 'SYN_RECV', 4: 'FIN_WAIT1', 5: 'FIN_WAIT2', 6: 'TIME_WAIT', 7: 'CLOSE',
  8: 'CLOSE_WAIT', 9: 'LAST_ACK', 10: 'LISTEN', 11: 'CLOSING',
};
const PROTOS: Record<number, string> = { 0: 'ip', 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 132: 'sctp', 136: 'udplite' };

/** One open file object, as inspection reports it. */
export interface FileInfo {
  id: number;
  type: string;
  /** path of a regular file, fifo, or the cwd/root */
  path?: string;
  /** pipe inode number (pipes and fifos) */
  pipe?: number;
  socket?: SocketInfo;
  /** one-line description (crit's where crit has one) */
  text: string;
}

export interface SocketInfo {
  family: 'unix' | 'inet' | 'inet6' | 'packet' | 'netlink';
  type?: string;
  protocol?: string;
  state?: string;
  ino?: number;
  /** unix: the peer's inode (0 when none) */
  peer?: number;
  /** unix: bound name; inet: local address:port */
  local?: string;
  /** inet: remote address:port */
  remote?: string;
}

function field(t: string): string | undefined {
  return ({ REG: 'reg', PIPE: 'pipe', FIFO: 'fifo', INETSK: 'isk', UNIXSK: 'usk', PACKETSK: 'psk', NETLINKSK: 'nlsk', EVENTFD: 'efd', EVENTPOLL: 'epfd', SIGNALFD: 'sgfd', TUNF: 'tunf', TIMERFD: 'tfd', INOTIFY: 'ify', FANOTIFY: 'ffy', EXT: 'ext', TTY: 'tty', MEMFD: 'memfd', BPFMAP: 'bpf', PIDFD: 'pidfd', NS: 'nsf' } as Record<string, string>)[t];
}

/** Render a unix socket name the way crit prints it (bytes as text; abstract names start with NUL). */
function unixName(name: unknown): string {
  if (!name) return '';
  const b = Buffer.isBuffer(name) ? name : Buffer.from(String(name));
  return b.toString('latin1');
}

/** Quoted-printable encoding of bytes, as Python's quopri.encodestring (which crit applies to unix names). */
function quopri(b: Buffer): Buffer {
  const out: number[] = [];
  let col = 0;
  const emit = (bytes: number[]) => {
    if (col + bytes.length > 75) {
      out.push(0x3d, 0x0a);
      col = 0;
    }
    out.push(...bytes);
    col += bytes.length;
  };
  const hex = (c: number) => [0x3d, ...Buffer.from(c.toString(16).toUpperCase().padStart(2, '0'))];
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    const last = i === b.length - 1;
    if (c === 0x0a) {
      out.push(c);
      col = 0;
    } else if ((c === 0x20 || c === 0x09) && last) emit(hex(c));
    else if (c === 0x3d || c < 0x20 || c > 0x7e) emit(hex(c));
    else emit([c]);
  }
  return Buffer.from(out);
}

function ipAddr(words: unknown, family: number): string {
  const a = ((words as number[] | undefined) ?? []).map((w) => Number(w) >>> 0);
  if (family === 10) {
    const b = Buffer.alloc(16);
    a.slice(0, 4).forEach((w, i) => b.writeUInt32LE(w, i * 4));
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
    const v4mapped = groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff';
    if (v4mapped) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    const s = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
    return `[${s.replace(/:{3,}/, '::')}]`;
  }
  const w = a[0] ?? 0;
  return `${w & 0xff}.${(w >>> 8) & 0xff}.${(w >>> 16) & 0xff}.${(w >>> 24) & 0xff}`;
}

/** Lookup and description of the file objects of one checkpoint. */
export class FileTable {
  private readonly byId = new Map<number, Entry>();
  private readonly cache = new Map<string, FileInfo>();
  private memfdInodes: Map<number, Entry> | undefined;

  constructor(private readonly img: ImageDir) {
    for (const f of img.optional('files.img') ?? []) this.byId.set(Number(f.id), f);
  }

  /** The name of the memfd behind file `id` (memfd.img), if it is one. */
  memfdName(id: number): string | undefined {
    const f = this.byId.get(id);
    if (!f?.memfd) return undefined;
    this.memfdInodes ??= new Map((this.img.optional('memfd.img') ?? []).map((m) => [Number(m.inode_id), m]));
    return this.memfdInodes.get(Number(f.memfd.inode_id))?.name;
  }

  entry(id: number): Entry | undefined {
    return this.byId.get(id);
  }

  all(): Entry[] {
    return [...this.byId.values()];
  }

  /** The file object `id`, described. `type` is the fd's type name (REG for cwd/root/exe/mappings). */
  info(type: string, id: number): FileInfo {
    const key = `${type}:${id}`;
    let got = this.cache.get(key);
    if (!got) {
      got = this.describe(type, id);
      this.cache.set(key, got);
    }
    return got;
  }

  private describe(type: string, id: number): FileInfo {
    const f = this.byId.get(id);
    const fld = field(type);
    const sub: Entry | undefined = f && fld ? f[fld] : undefined;
    switch (type) {
      case 'REG':
        return { id, type, path: sub?.name, text: sub?.name || 'unknown path' };
      case 'PIPE':
        return sub ? { id, type, pipe: Number(sub.pipe_id), text: `pipe[${sub.pipe_id}]` } : { id, type, text: 'pipe[?]' };
      case 'FIFO': {
        const reg = this.byId.get(id)?.reg;
        return { id, type, pipe: sub ? Number(sub.pipe_id) : undefined, path: reg?.name, text: `FIFO.${id}` };
      }
      case 'UNIXSK': {
        if (!sub) return { id, type, text: 'unix[?]' };
        const name = unixName(sub.name);
        return {
          id, type,
          socket: {
            family: 'unix', type: SOCK_TYPES[Number(sub.type)] ?? String(sub.type), state: TCP_STATES[Number(sub.state)] ?? String(sub.state),
            ino: Number(sub.ino), peer: Number(sub.peer), local: name ? (name.startsWith('\0') ? `@${name.slice(1)}` : name.replace(/\0+$/, '')) : undefined,
          },
          text: `unix[${sub.ino} (${sub.peer})${name ? ` ${quopri(Buffer.from(name, 'latin1')).toString('latin1')}` : ''}]`,
        };
      }
      case 'INETSK': {
        if (!sub) return { id, type, text: `INETSK.${id}` };
        const fam = Number(sub.family);
        const sock: SocketInfo = {
          family: fam === 10 ? 'inet6' : 'inet', type: SOCK_TYPES[Number(sub.type)] ?? String(sub.type),
          protocol: PROTOS[Number(sub.proto)] ?? String(sub.proto), state: TCP_STATES[Number(sub.state)] ?? String(sub.state), ino: Number(sub.ino),
          local: `${ipAddr(sub.src_addr, fam)}:${sub.src_port}`,
          remote: Number(sub.dst_port) || (sub.dst_addr ?? []).some((w: number) => w) ? `${ipAddr(sub.dst_addr, fam)}:${sub.dst_port}` : undefined,
        };
        return { id, type, socket: sock, text: `INETSK.${id}` };
      }
      case 'PACKETSK':
        return { id, type, socket: { family: 'packet', ino: sub ? Number(sub.ino ?? 0) : undefined }, text: `PACKETSK.${id}` };
      case 'NETLINKSK':
        return { id, type, socket: { family: 'netlink', ino: sub ? Number(sub.ino ?? 0) : undefined, protocol: sub ? String(sub.protocol) : undefined }, text: `NETLINKSK.${id}` };
      case 'MEMFD': {
        const name = this.memfdName(id);
        return { id, type, path: name === undefined ? undefined : `memfd:${name}`, text: `MEMFD.${id}` };
      }
      default:
        return { id, type, path: sub?.name, text: `${type}.${id}` };
    }
  }

  /** Human description for inspect (richer than crit's). */
  static label(fi: FileInfo): string {
    const s = fi.socket;
    if (!s) return fi.type === 'FIFO' && fi.path ? `fifo ${fi.path}` : fi.text;
    if (s.family === 'unix') return `unix ${s.type} ${s.state}${s.local ? ` ${s.local}` : ''} ino ${s.ino}${s.peer ? ` peer ${s.peer}` : ''}`;
    if (s.family === 'inet' || s.family === 'inet6') return `${s.protocol}${s.family === 'inet6' ? '6' : ''} ${s.state} ${s.local}${s.remote ? ` -> ${s.remote}` : ''}`;
    return `${s.family} socket${s.ino ? ` ino ${s.ino}` : ''}`;
  }
}
