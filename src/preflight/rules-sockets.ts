// Socket rules: unix sockets (peer in the tree, outside it, datagram or stream) and inet sockets
// (listening, connected: --tcp-established), with one sock_diag table per network namespace.
import { type InetSocket, type SocketTable, type UnixSocket, readSocketTable } from '../kernel/sock-diag.js';
import type { ProcFd } from '../kernel/proc.js';
import type { Issues, RuleContext } from './issues.js';
import { fdInode, holdersByInode, type ProcessSnapshot } from './snapshot.js';

const UNIX_TYPES: Record<number, string> = { 1: 'stream', 2: 'datagram', 5: 'seqpacket' };

type Holders = Map<number, { pid: number; fd: number }[]>;

function noteUnix(pid: number, fd: number, u: UnixSocket, table: SocketTable, treeSockets: Holders, issues: Issues): void {
  const { addOption, finding } = issues;
  const type = UNIX_TYPES[u.type] ?? `type ${u.type}`;
  const name = u.name ? ` ${u.name}` : '';
  if (u.state === 10) {
    finding(pid, 'unix-listen', `unix ${type} socket listening on${name || ' an unnamed address'} (inode ${u.ino})`, fd);
    return;
  }
  if (u.peer === undefined) {
    finding(pid, 'unix', `unix ${type} socket${name} (inode ${u.ino}); its peer is unknown (no sock_diag in its network namespace)`, fd);
    return;
  }
  if (u.peer === 0) {
    finding(pid, 'unix', `unix ${type} socket${name} (inode ${u.ino}), not connected`, fd);
    return;
  }
  const inside = treeSockets.get(u.peer);
  if (inside) {
    const h = inside[0];
    finding(pid, 'unix', `unix ${type} socket (inode ${u.ino}) connected to pid ${h.pid} fd ${h.fd} in the tree`, fd);
    return;
  }
  const peer = table.unix.get(u.peer);
  const peerName = peer?.name ? ` ${peer.name}` : '';
  if (u.type === 2) {
    // verified: CRIU 4.2 dumps a datagram socket connected outside with --ext-unix-sk
    addOption('--ext-unix-sk');
    finding(pid, 'unix-external', `unix datagram socket (inode ${u.ino}) connected to${peerName || ` socket ${u.peer}`} outside the tree; needs --ext-unix-sk`, fd);
    return;
  }
  if (peer && !peer.name) {
    // verified (test/integration/preflight-unix-peer.test.ts): with --external unix[INO] the dump succeeds, but
    // every restore fails (the restored task segfaults), with --ext-unix-sk or without: nothing to reconnect to
    issues.blocker(pid, 'unix-external-unnamed', `unix ${type} socket (inode ${u.ino}) connected to an unnamed socket ${u.peer} outside the tree (a client that connected to the tree): CRIU can dump it as external, but no restore can reconnect it; close the connection (or end that client) before checkpointing`, fd);
    return;
  }
  // verified: --ext-unix-sk does not dump a stream socket ("Can't dump half of stream unix connection");
  // naming the tree's end as external does
  addOption('--external', `unix[${u.ino}]`);
  finding(pid, 'unix-external', `unix ${type} socket (inode ${u.ino}) connected to${peerName || ` socket ${u.peer}`} outside the tree; needs --external unix[${u.ino}] (restore: --ext-unix-sk with the peer listening)`, fd);
}

function noteInet(pid: number, fd: number, s: InetSocket, issues: Issues): void {
  const { addOption, finding } = issues;
  const proto = `${s.protocol}${s.family === 'inet6' ? '6' : ''}`;
  if (s.protocol === 'udp') {
    finding(pid, 'udp', `${proto} socket ${s.local}${s.state === 1 ? ` connected to ${s.remote}` : ''}`, fd);
    return;
  }
  if (s.stateName === 'LISTEN') {
    finding(pid, 'tcp-listen', `${proto} listening on ${s.local}`, fd);
    return;
  }
  if (s.stateName === 'CLOSE') {
    finding(pid, 'tcp', `${proto} socket ${s.local}, not connected`, fd);
    return;
  }
  addOption('--tcp-established');
  finding(pid, 'tcp-established', `${proto} connection ${s.local} -> ${s.remote} (${s.stateName}); needs --tcp-established (also at restore)`, fd);
}

/** A rule for socket fds; it returns false for an fd that is not a socket. */
export function createSocketRule(ctx: RuleContext): (p: ProcessSnapshot, f: ProcFd) => boolean {
  const treeSockets = holdersByInode(ctx.tree.procs, 'socket');
  const tables = new Map<string, SocketTable>();
  const tableFor = (p: ProcessSnapshot): SocketTable => {
    const key = p.ns.net ?? 'self';
    let t = tables.get(key);
    if (!t) {
      t = key === ctx.tree.selfNs.net || key === 'self' ? readSocketTable() : readSocketTable(p.pid);
      tables.set(key, t);
    }
    return t;
  };
  return (p, f) => {
    const ino = fdInode(f.target, 'socket');
    if (ino === undefined) return false;
    const table = tableFor(p);
    const u = table.unix.get(ino);
    const i = table.inet.get(ino);
    if (u) noteUnix(p.pid, f.fd, u, table, treeSockets, ctx.issues);
    else if (i) noteInet(p.pid, f.fd, i, ctx.issues);
    else ctx.issues.finding(p.pid, 'socket', `a socket (${f.target}) of another family (netlink, packet, ...)`, f.fd);
    return true;
  };
}
