// AF_UNIX SOCK_SEQPACKET sockets through koffi: Node's net.Socket refuses SEQPACKET fds, and CRIU's RPC
// speaks one protobuf message per packet. Packets are sized with MSG_PEEK|MSG_TRUNC and read whole, so no
// receive buffer has a fixed size; waiting for data uses an event-loop poll handle (uv_poll), never a
// blocked thread, so a pending receive is cancelled simply by stopping the poll.
import { koffi, libc } from './libc.js';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const MSG_PEEK = 0x2;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const MSG_CTRUNC = 0x8;
const MSG_CMSG_CLOEXEC = 0x40000000;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;
const EINTR = 4;
const EAGAIN = 11;
const ECONNRESET = 104;

// x86_64/aarch64 LP64 layouts: struct iovec {void*, size_t}; struct msghdr {void *name; u32 namelen;
// iovec *iov; size_t iovlen; void *control; size_t controllen; int flags}; struct cmsghdr {size_t len; int
// level; int type; data...}.
const IOVEC_SIZE = 16;
const MSGHDR_SIZE = 56;
const CMSGHDR_SIZE = 16;
/** Room for this many received fds per packet (CRIU sends at most one). */
const MAX_FDS = 16;

interface SocketFns {
  socketpair: (domain: number, type: number, protocol: number, sv: Int32Array) => number;
  sendmsg: (fd: number, msg: Buffer, flags: number) => number;
  recvmsg: (fd: number, msg: Buffer, flags: number) => number;
  recv: (fd: number, buf: Buffer | null, len: number, flags: number) => number;
  shutdown: (fd: number, how: number) => number;
  close: (fd: number) => number;
  strerror: (errnum: number) => string;
}

let fns: SocketFns | undefined;

function bind(): SocketFns {
  if (fns) return fns;
  const lib = libc();
  fns = {
    socketpair: lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)') as SocketFns['socketpair'],
    sendmsg: lib.func('long sendmsg(int fd, void *msg, int flags)') as SocketFns['sendmsg'],
    recvmsg: lib.func('long recvmsg(int fd, void *msg, int flags)') as SocketFns['recvmsg'],
    recv: lib.func('long recv(int fd, void *buf, size_t len, int flags)') as SocketFns['recv'],
    shutdown: lib.func('int shutdown(int fd, int how)') as SocketFns['shutdown'],
    close: lib.func('int close(int fd)') as SocketFns['close'],
    strerror: lib.func('const char *strerror(int errnum)') as SocketFns['strerror'],
  };
  return fns;
}

/** A failed system call: `syscall` and the errno, with the C library's text. */
export class SyscallError extends Error {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errnum: number) {
    super(`${syscall}: ${bind().strerror(errnum)} (errno ${errnum})`);
    this.name = 'SyscallError';
    this.errno = errnum;
    this.syscall = syscall;
  }
}

/** The C library's text for an errno value: 3 → "No such process". */
export function strerror(errnum: number): string {
  return bind().strerror(errnum);
}

/** socketpair(AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC): two connected packet sockets. */
export function seqpacketPair(): [number, number] {
  const sv = new Int32Array(2);
  if (bind().socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) !== 0) {
    throw new SyscallError('socketpair', koffi.errno());
  }
  return [sv[0], sv[1]];
}

export function closeFd(fd: number): void {
  if (fd >= 0) bind().close(fd);
}

function address(buf: Buffer): bigint {
  return buf.length === 0 ? 0n : koffi.address(buf);
}

/** Sends one packet (optionally passing fds by SCM_RIGHTS). Blocks only if the peer's queue is full. */
export function sendPacket(fd: number, data: Uint8Array, fds: number[] = []): void {
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // keep zero-length payloads addressable
  const payload = body.length > 0 ? body : Buffer.alloc(1);
  const iov = Buffer.alloc(IOVEC_SIZE);
  iov.writeBigUInt64LE(address(payload), 0);
  iov.writeBigUInt64LE(BigInt(body.length), 8);
  const hdr = Buffer.alloc(MSGHDR_SIZE);
  hdr.writeBigUInt64LE(address(iov), 16);
  hdr.writeBigUInt64LE(1n, 24);
  let control: Buffer | undefined;
  if (fds.length > 0) {
    const len = CMSGHDR_SIZE + 4 * fds.length;
    control = Buffer.alloc(align8(len));
    control.writeBigUInt64LE(BigInt(len), 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    fds.forEach((f, i) => control!.writeInt32LE(f, CMSGHDR_SIZE + 4 * i));
    hdr.writeBigUInt64LE(address(control), 32);
    hdr.writeBigUInt64LE(BigInt(control.length), 40);
  }
  for (;;) {
    const n = bind().sendmsg(fd, hdr, MSG_NOSIGNAL);
    if (n >= 0) return;
    const e = koffi.errno();
    if (e !== EINTR) throw new SyscallError('sendmsg', e);
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** One received packet: its bytes and any fds that came with it (close-on-exec, owned by the caller). */
export interface Packet {
  data: Buffer;
  fds: number[];
}

/**
 * Receives one whole packet. Returns null at end-of-file (peer closed or reset, or socket shut down), or
 * 'again' when `wait` is false and nothing is queued. The size comes from MSG_PEEK|MSG_TRUNC, so a
 * packet of any size is read into a buffer of exactly its size.
 */
export function recvPacket(fd: number, wait: boolean): Packet | null | 'again' {
  const f = bind();
  const dontWait = wait ? 0 : MSG_DONTWAIT;
  let size: number;
  for (;;) {
    size = f.recv(fd, null, 0, MSG_PEEK | MSG_TRUNC | dontWait);
    if (size >= 0) break;
    const e = koffi.errno();
    if (e === EAGAIN && !wait) return 'again';
    // the peer closed with our data unread: the error is reported once, then its queued packets and EOF follow
    if (e === ECONNRESET || e === EINTR) continue;
    throw new SyscallError('recv', e);
  }
  if (size === 0) {
    // EOF, or a zero-length packet (CRIU never sends one: its answers have required fields); consume it
    f.recv(fd, null, 0, MSG_DONTWAIT);
    return null;
  }
  const data = Buffer.alloc(size);
  const iov = Buffer.alloc(IOVEC_SIZE);
  iov.writeBigUInt64LE(address(data), 0);
  iov.writeBigUInt64LE(BigInt(size), 8);
  const control = Buffer.alloc(CMSGHDR_SIZE + 4 * MAX_FDS);
  const hdr = Buffer.alloc(MSGHDR_SIZE);
  hdr.writeBigUInt64LE(address(iov), 16);
  hdr.writeBigUInt64LE(1n, 24);
  hdr.writeBigUInt64LE(address(control), 32);
  hdr.writeBigUInt64LE(BigInt(control.length), 40);
  let n: number;
  for (;;) {
    n = f.recvmsg(fd, hdr, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n >= 0) break;
    const e = koffi.errno();
    if (e !== EINTR) throw new SyscallError('recvmsg', e);
  }
  const fds = parseRights(control, Number(hdr.readBigUInt64LE(40)));
  const flags = hdr.readInt32LE(48);
  if (flags & MSG_CTRUNC) {
    fds.forEach(closeFd);
    throw new Error(`recvmsg: more than ${MAX_FDS} fds in one packet`);
  }
  return { data: n === size ? data : data.subarray(0, n), fds };
}

function parseRights(control: Buffer, controlLen: number): number[] {
  const fds: number[] = [];
  let off = 0;
  while (off + CMSGHDR_SIZE <= controlLen) {
    const len = Number(control.readBigUInt64LE(off));
    if (len < CMSGHDR_SIZE) break;
    const level = control.readInt32LE(off + 8);
    const type = control.readInt32LE(off + 12);
    if (level === SOL_SOCKET && type === SCM_RIGHTS) {
      for (let p = off + CMSGHDR_SIZE; p + 4 <= off + len; p += 4) fds.push(control.readInt32LE(p));
    }
    off += align8(len);
  }
  return fds;
}

/**
 * Our end of a SEQPACKET socket with promise-based receives. `recv()` waits on the event loop (no
 * thread is blocked); `close()` or an aborted signal ends a pending receive.
 */
export class PacketSocket {
  #fd: number;
  #poll: ReturnType<typeof koffi.node.poll> | undefined;
  #pending: { resolve: (p: Packet | null) => void; reject: (e: unknown) => void } | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  send(data: Uint8Array, fds?: number[]): void {
    if (this.#fd < 0) throw new Error('socket is closed');
    sendPacket(this.#fd, data, fds);
  }

  /** The next packet, or null at end-of-file. One receive at a time. */
  recv(signal?: AbortSignal): Promise<Packet | null> {
    if (this.#fd < 0) return Promise.reject(new Error('socket is closed'));
    if (this.#pending) return Promise.reject(new Error('a receive is already pending'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = recvPacket(this.#fd, false);
    if (now !== 'again') return Promise.resolve(now);
    return new Promise<Packet | null>((resolve, reject) => {
      const onAbort = () => this.#finish(undefined, signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        resolve: (p) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(p);
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const fd = this.#fd;
      const onEvent = () => {
        if (this.#fd !== fd) return;
        let got: Packet | null | 'again';
        try {
          got = recvPacket(fd, false);
        } catch (e) {
          this.#finish(undefined, e);
          return;
        }
        if (got !== 'again') this.#finish(got);
      };
      if (this.#poll) this.#poll.start({ readable: true, disconnect: true }, onEvent);
      else this.#poll = koffi.node.poll(fd, { readable: true, disconnect: true }, onEvent);
    });
  }

  #finish(packet: Packet | null | undefined, error?: unknown): void {
    const p = this.#pending;
    this.#pending = undefined;
    this.#poll?.stop();
    if (!p) return;
    if (error !== undefined) p.reject(error);
    else p.resolve(packet ?? null);
  }

  /** Closes our end; a pending receive resolves with null (end-of-file). */
  close(): void {
    if (this.#fd < 0) return;
    this.#finish(null);
    this.#poll?.close();
    this.#poll = undefined;
    closeFd(this.#fd);
    this.#fd = -1;
  }
}
