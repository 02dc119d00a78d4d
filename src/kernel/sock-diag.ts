// Socket states and peers from the kernel: NETLINK_SOCK_DIAG dumps (unix: type, state, name, peer inode;
// inet: TCP/UDP state and addresses), with /proc/<pid>/net/* as the fallback (no unix peers there).
// Netlink answers for the namespace its socket was created in: for another network namespace the
// socket is created there (setns on this thread and back, root only), else /proc/<pid>/net/* is read.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { koffi, libc } from './libc.js';

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_SOCK_DIAG = 4;
const SOCK_DIAG_BY_FAMILY = 20;
const NLM_F_REQUEST = 0x1;
const NLM_F_DUMP = 0x300;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const UDIAG_SHOW_NAME = 0x1;
const UDIAG_SHOW_PEER = 0x4;
const UNIX_DIAG_NAME = 0;
const UNIX_DIAG_PEER = 2;

const TCP_STATES = [
  '', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
  'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV',
] as const;

export interface UnixSocket {
  ino: number;
  /** 1 stream, 2 dgram, 5 seqpacket */
  type: number;
  /** TCP-style state number: 1 ESTABLISHED (connected), 7 CLOSE (unconnected), 10 LISTEN */
  state: number;
  /** bound path, "@abstract", or "" */
  name: string;
  /** inode of the connected peer, 0 when none; undefined when unknown (the /proc fallback) */
  peer?: number;
}

export interface InetSocket {
  ino: number;
  family: 'inet' | 'inet6';
  protocol: 'tcp' | 'udp';
  /** TCP_STATES index */
  state: number;
  stateName: string;
  local: string;
  remote: string;
}

export interface SocketTable {
  unix: Map<number, UnixSocket>;
  inet: Map<number, InetSocket>;
  /** 'netlink' or 'proc' */
  source: 'netlink' | 'proc';
}

interface Fns {
  socket: (domain: number, type: number, protocol: number) => number;
  send: (fd: number, buf: Buffer, len: number, flags: number) => number | bigint;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number | bigint;
  close: (fd: number) => number;
  setns: (fd: number, nstype: number) => number;
}
let fns: Fns | undefined;

function bind(): Fns {
  if (fns) return fns;
  const lib = libc();
  fns = {
    socket: lib.func('socket', 'int', ['int', 'int', 'int']) as Fns['socket'],
    send: lib.func('send', 'long', ['int', 'void *', 'size_t', 'int']) as Fns['send'],
    recv: lib.func('recv', 'long', ['int', 'void *', 'size_t', 'int']) as Fns['recv'],
    close: lib.func('close', 'int', ['int']) as Fns['close'],
    setns: lib.func('setns', 'int', ['int', 'int']) as Fns['setns'],
  };
  return fns;
}

const CLONE_NEWNET = 0x40000000;

/** A NETLINK_SOCK_DIAG socket in this thread's network namespace, or in the one of `netnsPid`. */
function openDiagSocket(netnsPid?: number): number {
  const f = bind();
  if (netnsPid === undefined) {
    const fd = f.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) throw new Error(`socket(AF_NETLINK): errno ${koffi.errno()}`);
    return fd;
  }
  const own = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(`/proc/${netnsPid}/ns/net`, 'r');
  try {
    if (f.setns(target, CLONE_NEWNET) !== 0) throw new Error(`setns(net of ${netnsPid}): errno ${koffi.errno()}`);
    const fd = f.socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    const err = koffi.errno();
    // back home before anything else runs on this thread
    if (f.setns(own, CLONE_NEWNET) !== 0) throw new Error(`setns back: errno ${koffi.errno()}`);
    if (fd < 0) throw new Error(`socket(AF_NETLINK): errno ${err}`);
    return fd;
  } finally {
    closeSync(own);
    closeSync(target);
  }
}

/** One NETLINK_SOCK_DIAG dump on `fd`: sends `body` and calls `onMessage` with each answer's payload. */
function diagDump(fd: number, body: Buffer, onMessage: (payload: Buffer) => void): void {
  const f = bind();
  const req = Buffer.alloc(16 + body.length);
  req.writeUInt32LE(req.length, 0);
  req.writeUInt16LE(SOCK_DIAG_BY_FAMILY, 4);
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  req.writeUInt32LE(1, 8);
  body.copy(req, 16);
  if (Number(f.send(fd, req, req.length, 0)) < 0) throw new Error(`netlink send: errno ${koffi.errno()}`);
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const n = Number(f.recv(fd, buf, buf.length, 0));
    if (n < 0) throw new Error(`netlink recv: errno ${koffi.errno()}`);
    if (n === 0) return;
    let off = 0;
    while (off + 16 <= n) {
      const len = buf.readUInt32LE(off);
      const type = buf.readUInt16LE(off + 4);
      if (len < 16) return;
      if (type === NLMSG_DONE) return;
      if (type === NLMSG_ERROR) {
        const err = buf.readInt32LE(off + 16);
        if (err !== 0) throw new Error(`netlink sock_diag: errno ${-err}`);
        return;
      }
      onMessage(Buffer.from(buf.subarray(off + 16, off + len)));
      off += (len + 3) & ~3;
    }
  }
}

/** Runs `use` with a sock_diag socket (of `netnsPid`'s network namespace when given), closing it after. */
function withDiagSocket<T>(netnsPid: number | undefined, use: (fd: number) => T): T {
  const fd = openDiagSocket(netnsPid);
  try {
    return use(fd);
  } finally {
    bind().close(fd);
  }
}

function readAttrs(payload: Buffer, start: number, onAttr: (type: number, data: Buffer) => void): void {
  let off = start;
  while (off + 4 <= payload.length) {
    const len = payload.readUInt16LE(off);
    const type = payload.readUInt16LE(off + 2);
    if (len < 4) break;
    onAttr(type, payload.subarray(off + 4, off + len));
    off += (len + 3) & ~3;
  }
}

function decodeUnixName(data: Buffer): string {
  if (data.length === 0) return '';
  if (data[0] === 0) return '@' + data.subarray(1).toString('latin1').replace(/\0+$/, '');
  const end = data.indexOf(0);
  return data.subarray(0, end < 0 ? data.length : end).toString('latin1');
}

/** All unix sockets of the caller's network namespace (or `netnsPid`'s), with names and peers. */
export function diagUnix(netnsPid?: number): Map<number, UnixSocket> {
  return withDiagSocket(netnsPid, diagUnixOn);
}

function diagUnixOn(fd: number): Map<number, UnixSocket> {
  const req = Buffer.alloc(24);
  req.writeUInt8(AF_UNIX, 0);
  req.writeUInt32LE(0xffffffff, 4); // all states
  req.writeUInt32LE(UDIAG_SHOW_NAME | UDIAG_SHOW_PEER, 12);
  const out = new Map<number, UnixSocket>();
  diagDump(fd, req, (p) => {
    const s: UnixSocket = { type: p.readUInt8(1), state: p.readUInt8(2), ino: p.readUInt32LE(4), name: '', peer: 0 };
    readAttrs(p, 16, (type, data) => {
      if (type === UNIX_DIAG_NAME) s.name = decodeUnixName(data);
      else if (type === UNIX_DIAG_PEER && data.length >= 4) s.peer = data.readUInt32LE(0);
    });
    out.set(s.ino, s);
  });
  return out;
}

function formatAddr(family: number, addr: Buffer, port: number): string {
  if (family === AF_INET) return `${addr[0]}.${addr[1]}.${addr[2]}.${addr[3]}:${port}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(addr.readUInt16BE(i).toString(16));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${port}`;
}

/** TCP and UDP sockets (v4 and v6) of the caller's network namespace (or `netnsPid`'s). */
export function diagInet(netnsPid?: number): Map<number, InetSocket> {
  return withDiagSocket(netnsPid, diagInetOn);
}

function diagInetOn(fd: number): Map<number, InetSocket> {
  const out = new Map<number, InetSocket>();
  for (const family of [AF_INET, AF_INET6]) {
    for (const protocol of [IPPROTO_TCP, IPPROTO_UDP]) {
      const req = Buffer.alloc(56);
      req.writeUInt8(family, 0);
      req.writeUInt8(protocol, 1);
      req.writeUInt32LE(0xffffffff, 4);
      diagDump(fd, req, (p) => {
        const state = p.readUInt8(1);
        const sport = p.readUInt16BE(4);
        const dport = p.readUInt16BE(6);
        const ino = p.readUInt32LE(68);
        out.set(ino, {
          ino,
          family: family === AF_INET ? 'inet' : 'inet6',
          protocol: protocol === IPPROTO_TCP ? 'tcp' : 'udp',
          state,
          stateName: TCP_STATES[state] ?? String(state),
          local: formatAddr(family, p.subarray(8, 24), sport),
          remote: formatAddr(family, p.subarray(24, 40), dport),
        });
      });
    }
  }
  return out;
}

function readLines(path: string): string[] {
  try {
    return readFileSync(path, 'latin1').split('\n').slice(1).filter(Boolean);
  } catch {
    return [];
  }
}

function procAddr(hex: string, v6: boolean): string {
  const [a, p] = hex.split(':');
  const port = Number.parseInt(p, 16);
  const bytes = Buffer.from(a, 'hex');
  // /proc prints each 32-bit word in host (little-endian) order
  for (let i = 0; i < bytes.length; i += 4) bytes.subarray(i, i + 4).reverse();
  return formatAddr(v6 ? AF_INET6 : AF_INET, bytes, port);
}

/** The same tables from /proc/<pid>/net/* (that process's network namespace); unix peers are unknown there. */
export function readProcSockets(pid: number | 'self'): SocketTable {
  const unix = new Map<number, UnixSocket>();
  for (const line of readLines(`/proc/${pid}/net/unix`)) {
    const f = line.trim().split(/\s+/);
    // Num RefCount Protocol Flags Type St Inode Path
    const ino = Number(f[6]);
    const st = Number.parseInt(f[5], 16);
    const flags = Number.parseInt(f[3], 16);
    // /proc's St: 1 unconnected, 3 connected; __SO_ACCEPTCON (0x10000) in Flags marks a listener
    const state = flags & 0x10000 ? 10 : st === 3 ? 1 : 7;
    unix.set(ino, { ino, type: Number.parseInt(f[4], 16), state, name: f[7] ?? '' });
  }
  const inet = new Map<number, InetSocket>();
  for (const [file, family, protocol] of [
    ['tcp', 'inet', 'tcp'],
    ['tcp6', 'inet6', 'tcp'],
    ['udp', 'inet', 'udp'],
    ['udp6', 'inet6', 'udp'],
  ] as const) {
    for (const line of readLines(`/proc/${pid}/net/${file}`)) {
      const f = line.trim().split(/\s+/);
      const state = Number.parseInt(f[3], 16);
      const ino = Number(f[9]);
      if (!ino) continue;
      inet.set(ino, {
        ino,
        family,
        protocol,
        state,
        stateName: TCP_STATES[state] ?? String(state),
        local: procAddr(f[1], family === 'inet6'),
        remote: procAddr(f[2], family === 'inet6'),
      });
    }
  }
  return { unix, inet, source: 'proc' };
}

/**
 * Every socket of the caller's network namespace, or of `netnsPid`'s: netlink first (peers included),
 * /proc/<pid>/net/* when netlink fails (entering another namespace needs root).
 */
export function readSocketTable(netnsPid?: number): SocketTable {
  try {
    return withDiagSocket(netnsPid, (fd) => ({ unix: diagUnixOn(fd), inet: diagInetOn(fd), source: 'netlink' as const }));
  } catch {
    return readProcSockets(netnsPid ?? 'self');
  }
}
