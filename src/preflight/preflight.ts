// Predicts, from the live tree alone, whether a CRIU 4.2 dump succeeds and which options it needs.
// Each rule below was held against a real CRIU 4.2.1 dump on this project's kernel (see
// test/integration/preflight-*.test.ts); rules marked "finding" only inform.
import { readlinkSync, statSync } from 'node:fs';
import { CryoError, isCryoError } from '../errors.js';
import { listTree, resolveDumpTarget } from '../kernel/process.js';
import { KcmpType, kcmp } from '../kernel/kcmp.js';
import {
  type MapEntry,
  type ProcFd,
  readFds,
  readMaps,
  readNamespaces,
  readMountinfo,
  readProcFile,
  readStat,
  readStatus,
  readTids,
  type NamespaceKind,
} from '../kernel/proc.js';
import { type InetSocket, type SocketTable, type UnixSocket, readSocketTable } from '../kernel/sock-diag.js';
import {
  DEFAULT_GHOST_LIMIT,
  type PreflightIssue,
  type PreflightOptions,
  type PreflightProcess,
  type PreflightReport,
} from './types.js';

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  pgid: number;
  sid: number;
  threads: number;
  tracerPid: number;
  /** the traced thread, when it is not the main one */
  tracedTid?: number;
  /** session id as the task's own pid namespace sees it (last of status NSsid); 0 when its leader is outside */
  nsSid: number;
  /** pid in each pid namespace, outermost first (status NSpid) */
  nsPid: number[];
  fds: ProcFd[];
  maps: MapEntry[];
  ns: Partial<Record<NamespaceKind, string>>;
}

const MiB = 1 << 20;
const UNIX_TYPES: Record<number, string> = { 1: 'stream', 2: 'datagram', 5: 'seqpacket' };

function collect(pid: number): Proc | undefined {
  const stat = readStat(pid);
  const status = readStatus(pid);
  if (!stat || !status) return undefined;
  let tracerPid = Number(status.TracerPid ?? 0);
  let tracedTid: number | undefined;
  if (tracerPid === 0 && Number(status.Threads ?? 1) > 1) {
    // CRIU seizes every thread: a traced thread blocks the dump as much as a traced main thread
    for (const tid of readTids(pid)) {
      const t = Number(readStatus(tid)?.TracerPid ?? 0);
      if (t !== 0) {
        tracerPid = t;
        tracedTid = tid;
        break;
      }
    }
  }
  return {
    pid,
    ppid: stat.ppid,
    comm: stat.comm,
    state: stat.state,
    pgid: stat.pgrp,
    sid: stat.session,
    threads: Number(status.Threads ?? 1),
    tracerPid,
    tracedTid,
    nsPid: (status.NSpid ?? String(pid)).split(/\s+/).map(Number),
    nsSid: innermost(status.NSsid, stat.session),
    fds: readFds(pid),
    maps: readMaps(pid),
    ns: readNamespaces(pid),
  };
}

/** The last (innermost) number of a status line such as NSsid, or `fallback` when the kernel lacks it. */
function innermost(field: string | undefined, fallback: number): number {
  const last = field?.trim().split(/\s+/).pop();
  return last === undefined || last === '' ? fallback : Number(last);
}

/** Groups of pids whose kernel object of `type` coincides, found by sorting with kcmp's order. */
function sharedGroups(pids: number[], type: KcmpType): number[][] {
  if (pids.length < 2) return [];
  const cmp = (a: number, b: number): number => {
    const r = kcmp(a, b, type);
    return r === 0 ? 0 : r === 1 ? -1 : r === 2 ? 1 : 0;
  };
  let sorted: number[];
  try {
    sorted = [...pids].sort(cmp);
  } catch {
    return [];
  }
  const groups: number[][] = [];
  let cur = [sorted[0]];
  for (let i = 1; i < sorted.length; i++) {
    if (kcmp(cur[0], sorted[i], type) === 0) cur.push(sorted[i]);
    else {
      if (cur.length > 1) groups.push(cur);
      cur = [sorted[i]];
    }
  }
  if (cur.length > 1) groups.push(cur);
  return groups;
}

function inodeOf(target: string, kind: 'socket' | 'pipe'): number | undefined {
  const m = new RegExp(`^${kind}:\\[(\\d+)\\]$`).exec(target);
  return m ? Number(m[1]) : undefined;
}

/** Holders of a lock line "1: FLOCK  ADVISORY  WRITE 6778 fe:00:2155648 0 EOF": the pid field (-1 for OFD locks). */
function lockPid(line: string): number {
  const f = line.trim().split(/\s+/);
  // "1:" id, type, ADVISORY/MANDATORY, READ/WRITE, pid (the "->" marker of blocked waiters shifts fields)
  const i = f[1] === '->' ? 5 : 4;
  return Number(f[i]);
}

function isTerminalPath(target: string): boolean {
  return /^\/dev\/(pts\/\d+|tty\d*|ttyS\d+|console)$/.test(target);
}

/**
 * Walks the live tree rooted at `pid` and predicts the outcome of `cryo dump PID`:
 * `dumpable` with no extra options, the `options` that fix it, and the `blockers` that no option fixes.
 */
export function preflight(pid: number, opts: PreflightOptions = {}): PreflightReport {
  const ghostLimit = opts.ghostLimit ?? DEFAULT_GHOST_LIMIT;
  if (!readStat(pid)) {
    throw new CryoError('NO_PROCESS', `no process ${pid}`, { hint: 'check the pid (ps -p PID)', details: { pid } });
  }
  // the same root `cryo dump PID` dumps: for a tree `cryo run` started, its PID namespace's init
  let rootPid = pid;
  let partOf: CryoError | undefined;
  try {
    rootPid = resolveDumpTarget(pid).rootPid;
  } catch (e) {
    if (!isCryoError(e)) throw e;
    partOf = e;
  }
  const root = collect(rootPid);
  if (!root) {
    throw new CryoError('NO_PROCESS', `no process ${rootPid}`, { hint: 'check the pid (ps -p PID)', details: { pid: rootPid } });
  }
  const procs: Proc[] = [root];
  for (const p of listTree(rootPid).slice(1)) {
    const c = collect(p);
    if (c) procs.push(c);
  }
  const treePids = new Set(procs.map((p) => p.pid));
  const blockers: PreflightIssue[] = [];
  const findings: PreflightIssue[] = [];
  const options: string[] = [];
  const addOption = (...argv: string[]): void => {
    // an option with a value is one unit ("--external unix[1]"); flags are added once
    for (let i = 0; i < options.length; i++) {
      if (options[i] === argv[0] && (argv.length === 1 || options[i + 1] === argv[1])) return;
    }
    options.push(...argv);
  };
  const finding = (p: number, kind: string, message: string, fd?: number): void => {
    findings.push(fd === undefined ? { pid: p, kind, message } : { pid: p, fd, kind, message });
  };
  const blocker = (p: number, kind: string, message: string, fd?: number): void => {
    const issue = fd === undefined ? { pid: p, kind, message } : { pid: p, fd, kind, message };
    blockers.push(issue);
    findings.push(issue);
  };

  const selfNs = readNamespaces('self');
  if (partOf) blocker(pid, 'partial-tree', `${partOf.message}${partOf.hint ? `: ${partOf.hint}` : ''}`);

  // --- the tree as a whole -------------------------------------------------------------------
  const ownPidNs = root.ns.pid !== undefined && selfNs.pid !== undefined && root.ns.pid !== selfNs.pid;
  const nsInit = ownPidNs && root.nsPid[root.nsPid.length - 1] === 1;
  if (ownPidNs && !nsInit && !partOf) {
    // verified: "Can't dump a pid namespace without the process init"
    blocker(root.pid, 'pidns-not-init', `pid ${root.pid} is inside a pid namespace (as pid ${root.nsPid[root.nsPid.length - 1]}) but is not its init: CRIU dumps a pid namespace only from its init; check that init's pid instead`);
  } else if (root.nsSid === 0) {
    // verified in CI: a tree started from a session begun outside the container's pid namespace (sid reads 0
    // there) fails with "A session leader of P(P) is outside of its pid namespace", --shell-job or not
    blocker(root.pid, 'session', `its session leader is outside its pid namespace (the session began outside this container or namespace), which CRIU cannot dump, --shell-job or not: start the tree with setsid or \`cryo run\``);
  } else if (root.sid !== root.pid && ownPidNs && !treePids.has(root.sid)) {
    // verified: "A session leader of P(1) is outside of its pid namespace"; --shell-job does not help
    blocker(root.pid, 'session', `the namespace's init is not a session leader and its session (${root.sid}) is led from outside the pid namespace: start the init with setsid (e.g. unshare --pid --fork setsid CMD)`);
  } else if (root.sid !== root.pid) {
    addOption('--shell-job');
    const leader = treePids.has(root.sid) ? 'inside' : 'outside';
    finding(root.pid, 'session', `not a session leader: its session (${root.sid}) is led from ${leader} the tree (a shell job); needs --shell-job (or start it with setsid)`);
  }
  const ownMntNs = root.ns.mnt !== undefined && selfNs.mnt !== undefined && root.ns.mnt !== selfNs.mnt;
  for (const kind of ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup', 'time'] as const) {
    if (root.ns[kind] && selfNs[kind] && root.ns[kind] !== selfNs[kind]) {
      if (kind === 'mnt') {
        const tmpfs = readMountinfo(root.pid)
          .map((l) => l.split(' - '))
          .filter(([, right]) => right?.startsWith('tmpfs '))
          .map(([left]) => left.split(' ')[4]);
        finding(root.pid, 'namespace', `the tree has its own mount namespace (${root.ns.mnt}): CRIU dumps all its mounts${tmpfs.length ? `, copying the content of its tmpfs mounts (${tmpfs.join(', ')}): slow, and it fails if they change meanwhile` : ''}`);
      } else {
        finding(root.pid, 'namespace', `the tree has its own ${kind} namespace (${root.ns[kind]}); CRIU dumps it with the tree`);
      }
    }
  }
  // mount ids visible in each process's mount namespace: an fd on a mount outside it cannot be dumped
  const mountIds = new Map<string, Set<number>>();
  const mountsOf = (p: Proc): Set<number> => {
    const key = p.ns.mnt ?? String(p.pid);
    let ids = mountIds.get(key);
    if (!ids) {
      ids = new Set(readMountinfo(p.pid).map((l) => Number(l.split(' ')[0])));
      mountIds.set(key, ids);
    }
    return ids;
  };

  // --- sockets: one table per network namespace -------------------------------------------
  const tables = new Map<string, SocketTable>();
  const tableFor = (p: Proc): SocketTable => {
    const key = p.ns.net ?? 'self';
    let t = tables.get(key);
    if (!t) {
      t = key === selfNs.net || key === 'self' ? readSocketTable() : readSocketTable(p.pid);
      tables.set(key, t);
    }
    return t;
  };
  const treeSockets = new Map<number, { pid: number; fd: number }[]>();
  const treePipes = new Map<number, { pid: number; fd: number }[]>();
  const ptyMasters = new Set<string>();
  for (const p of procs) {
    for (const f of p.fds) {
      const s = inodeOf(f.target, 'socket');
      if (s !== undefined) {
        if (!treeSockets.has(s)) treeSockets.set(s, []);
        treeSockets.get(s)!.push({ pid: p.pid, fd: f.fd });
      }
      const pi = inodeOf(f.target, 'pipe');
      if (pi !== undefined) {
        if (!treePipes.has(pi)) treePipes.set(pi, []);
        treePipes.get(pi)!.push({ pid: p.pid, fd: f.fd });
      }
      const idx = f.info?.extra['tty-index'];
      if ((f.target === '/dev/ptmx' || f.target === '/dev/pts/ptmx') && idx !== undefined) ptyMasters.add(`/dev/pts/${idx}`);
    }
  }
  const seenGhosts = new Set<string>();
  // verified: a file open under a removed name that still has another link fails with
  // "Can't create link remap for P. Use link-remap option."; --link-remap fixes it
  const needLinkRemap = (p: number, fd: number | undefined, path: string, how: 'open' | 'mapped'): void => {
    addOption('--link-remap');
    finding(p, 'linked-file', `${path}: ${how} under a removed name, but the file still has another link; needs --link-remap`, fd);
  };
  let ghostNeed = 0;

  for (const p of procs) {
    // --- the process -----------------------------------------------------------------------
    if (p.tracerPid !== 0) {
      const who = p.tracedTid ? `its thread ${p.tracedTid} is traced` : 'traced';
      blocker(p.pid, 'traced', `${who} by pid ${p.tracerPid} (${treePids.has(p.tracerPid) ? 'inside' : 'outside'} the tree): CRIU cannot seize a traced task; detach the tracer first`);
    }
    const cwd = readLink(`/proc/${p.pid}/cwd`);
    if (cwd?.endsWith(' (deleted)')) finding(p.pid, 'deleted-cwd', `works in a deleted directory (${cwd.slice(0, -10)}); CRIU recreates it for the restore`);
    if (p.state === 'Z') finding(p.pid, 'zombie', 'a zombie (ended, not reaped); CRIU saves it as such');
    if (p.state === 'T' || p.state === 't') finding(p.pid, 'stopped', 'stopped; CRIU restores it stopped');
    if (p !== root) {
      for (const kind of ['ipc', 'mnt', 'net', 'pid', 'uts'] as const) {
        if (p.ns[kind] && root.ns[kind] && p.ns[kind] !== root.ns[kind]) {
          finding(p.pid, 'namespace', `runs in a ${kind} namespace of its own (${p.ns[kind]}), nested below the root's`);
        }
      }
    }

    // --- memory maps -----------------------------------------------------------------------
    for (const m of p.maps) {
      if (m.path.startsWith('/SYSV')) {
        if (p.ns.ipc && p.ns.ipc === selfNs.ipc) {
          blocker(p.pid, 'sysv-shm', `SysV shared memory attached at 0x${m.start.toString(16)} while the tree shares the host IPC namespace: CRIU saves SysV IPC only with the tree's own IPC namespace (start it with unshare --ipc)`);
        } else {
          finding(p.pid, 'sysv-shm', `SysV shared memory attached at 0x${m.start.toString(16)}; saved with the tree's IPC namespace`);
        }
        continue;
      }
      if (m.path === '[io_uring]' || m.path.includes('io_uring')) continue;
      if (m.inode !== 0 && m.path.startsWith('/') && m.path.endsWith(' (deleted)') && !m.path.startsWith('/memfd:') && !m.path.startsWith('/dev/zero') && !m.path.startsWith('/anon_hugepage')) {
        const key = `${m.dev}:${m.inode}`;
        if (seenGhosts.has(key)) continue;
        seenGhosts.add(key);
        const st = statPath(`/proc/${p.pid}/map_files/${m.start.toString(16)}-${m.end.toString(16)}`);
        if (st && st.nlink > 0) needLinkRemap(p.pid, undefined, m.path.slice(0, -10), 'mapped');
        else ghostNeed = noteGhost(p.pid, undefined, m.path.slice(0, -10), st?.size ?? 0, ghostLimit, ghostNeed, finding, 'mapped');
      }
    }

    // --- file descriptors ------------------------------------------------------------------
    for (const f of p.fds) {
      const t = f.target;
      if (ownMntNs && f.info && t.startsWith('/') && !t.startsWith('/memfd:') && !mountsOf(p).has(f.info.mntId)) {
        // verified: "Can't lookup mount=N for fd=F path=P" (an fd opened before entering the namespace)
        blocker(p.pid, 'foreign-mount', `${t} is open on a mount (id ${f.info.mntId}) outside the process's mount namespace (opened before it entered the namespace); reopen it inside`, f.fd);
      }
      if (t === 'anon_inode:[io_uring]') {
        blocker(p.pid, 'io_uring', 'an io_uring instance: CRIU 4.2 cannot dump io_uring (the kernel refuses to pass it to CRIU)', f.fd);
        continue;
      }
      if (f.info) {
        const held = f.info.locks.filter((l) => {
          const lp = lockPid(l);
          return lp === -1 || treePids.has(lp);
        });
        if (held.length) {
          addOption('--file-locks');
          const kinds = [...new Set(held.map((l) => l.trim().split(/\s+/)[1]))].join('/');
          finding(p.pid, 'file-lock', `holds a ${kinds} lock on ${t}; needs --file-locks`, f.fd);
        }
      }
      const sino = inodeOf(t, 'socket');
      if (sino !== undefined) {
        const table = tableFor(p);
        const u = table.unix.get(sino);
        const i = table.inet.get(sino);
        if (u) noteUnix(p.pid, f.fd, u, table, treeSockets, addOption, finding);
        else if (i) noteInet(p.pid, f.fd, i, addOption, finding);
        else finding(p.pid, 'socket', `a socket (${t}) of another family (netlink, packet, ...)`, f.fd);
        continue;
      }
      if (isTerminalPath(t)) {
        if (!ptyMasters.has(t)) {
          addOption('--shell-job');
          finding(p.pid, 'terminal', `on terminal ${t}, whose master side is outside the tree; needs --shell-job (or stdio that is not a terminal)`, f.fd);
        } else finding(p.pid, 'terminal', `on terminal ${t}; its master is in the tree`, f.fd);
        continue;
      }
      if (t === '/dev/ptmx' || t === '/dev/pts/ptmx') {
        finding(p.pid, 'pty-master', `the master of /dev/pts/${f.info?.extra['tty-index'] ?? '?'}`, f.fd);
        continue;
      }
      const pino = inodeOf(t, 'pipe');
      if (pino !== undefined) {
        const others = treePipes.get(pino)!.filter((h) => h.pid !== p.pid);
        if (others.length === 0 && treePipes.get(pino)!.length === 1) {
          finding(p.pid, 'pipe', `${t}: no other end in the tree (outside or closed); its data is saved, restore may need --inherit-fd`, f.fd);
        }
        continue;
      }
      if (t.startsWith('/') && t.endsWith(' (deleted)') && !t.startsWith('/memfd:')) {
        const path = t.slice(0, -10);
        const st = statPath(`/proc/${p.pid}/fd/${f.fd}`);
        const key = st ? `${st.dev}:${st.ino}` : `${p.pid}:${f.fd}`;
        if (st && (st.mode & 0o170000) !== 0o100000) {
          finding(p.pid, 'deleted-file', `${path}: deleted, not a regular file`, f.fd);
          continue;
        }
        if (seenGhosts.has(key)) continue;
        seenGhosts.add(key);
        if (st && st.nlink > 0) needLinkRemap(p.pid, f.fd, path, 'open');
        else ghostNeed = noteGhost(p.pid, f.fd, path, st?.size ?? 0, ghostLimit, ghostNeed, finding, 'open');
        continue;
      }
      if (t.startsWith('/memfd:')) {
        finding(p.pid, 'memfd', `memfd ${t.slice(7).replace(/ \(deleted\)$/, '')}: saved with its content`, f.fd);
        continue;
      }
      if (t.startsWith('anon_inode:')) {
        const what = t.slice('anon_inode:'.length).replace(/^\[|\]$/g, '');
        if (/^(bpf|perf_event)/.test(what)) {
          finding(p.pid, 'anon-inode', `${what}: CRIU 4.2 may not dump this kind of descriptor`, f.fd);
        }
      }
    }
  }
  if (ghostNeed > 0) addOption('--ghost-limit', String(ghostNeed));

  // --- SysV IPC objects created or used by the tree -------------------------------------------
  noteSysvObjects(procs, treePids, selfNs.ipc, finding);

  // --- sharing between processes (kcmp) ---------------------------------------------------------
  const processes: PreflightProcess[] = procs.map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    comm: p.comm,
    state: p.state,
    threads: p.threads,
    pgid: p.pgid,
    sid: p.sid,
    tracerPid: p.tracerPid,
    fds: p.fds.length,
  }));
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const live = procs.filter((p) => p.state !== 'Z').map((p) => p.pid);
  for (const g of sharedGroups(live, KcmpType.VM)) {
    for (const p of g) byPid.get(p)!.sharesVmWith = g.filter((x) => x !== p);
    finding(g[0], 'shared-vm', `processes ${g.join(', ')} share one address space (CLONE_VM without threads)`);
  }
  for (const g of sharedGroups(live, KcmpType.FILES)) {
    for (const p of g) byPid.get(p)!.sharesFdTableWith = g.filter((x) => x !== p);
    finding(g[0], 'shared-fd-table', `processes ${g.join(', ')} share one fd table (CLONE_FILES)`);
  }
  noteSharedFiles(procs, finding);

  return {
    pid,
    root: rootPid,
    dumpable: blockers.length === 0 && options.length === 0,
    options,
    blockers,
    findings,
    processes,
  };
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function statPath(path: string): { size: number; dev: number; ino: number; mode: number; nlink: number } | undefined {
  try {
    const st = statSync(path);
    return { size: st.size, dev: st.dev, ino: st.ino, mode: st.mode, nlink: st.nlink };
  } catch {
    return undefined;
  }
}

function noteGhost(
  pid: number,
  fd: number | undefined,
  path: string,
  size: number,
  limit: number,
  need: number,
  finding: (p: number, kind: string, message: string, fd?: number) => void,
  how: 'open' | 'mapped',
): number {
  if (size > limit) {
    const want = Math.ceil(size / MiB) * MiB;
    finding(pid, 'deleted-file', `${path}: deleted but ${how}, ${size} bytes, over CRIU's ghost-file limit (${limit}); needs --ghost-limit ${want}`, fd);
    return Math.max(need, want);
  }
  finding(pid, 'deleted-file', `${path}: deleted but ${how}, ${size} bytes; CRIU saves its content in the images (ghost file)`, fd);
  return need;
}

function noteUnix(
  pid: number,
  fd: number,
  u: UnixSocket,
  table: SocketTable,
  treeSockets: Map<number, { pid: number; fd: number }[]>,
  addOption: (...argv: string[]) => void,
  finding: (p: number, kind: string, message: string, fd?: number) => void,
): void {
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
  // verified: --ext-unix-sk does not dump a stream socket ("Can't dump half of stream unix connection");
  // naming the tree's end as external does
  addOption('--external', `unix[${u.ino}]`);
  finding(pid, 'unix-external', `unix ${type} socket (inode ${u.ino}) connected to${peerName || ` socket ${u.peer}`} outside the tree; needs --external unix[${u.ino}] (restore: --ext-unix-sk with the peer listening)`, fd);
}

function noteInet(
  pid: number,
  fd: number,
  s: InetSocket,
  addOption: (...argv: string[]) => void,
  finding: (p: number, kind: string, message: string, fd?: number) => void,
): void {
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

function noteSysvObjects(
  procs: Proc[],
  treePids: Set<number>,
  selfIpc: string | undefined,
  finding: (p: number, kind: string, message: string, fd?: number) => void,
): void {
  const hostNs = procs[0].ns.ipc !== undefined && procs[0].ns.ipc === selfIpc;
  const fate = hostNs ? 'not saved: the tree shares the host IPC namespace' : "saved with the tree's IPC namespace";
  // /proc/sysvipc shows the reader's IPC namespace: the tree's objects only when it shares ours
  const scan = (file: string, what: string, pidCols: number[]): void => {
    const text = hostNs ? readProcFile(`/proc/sysvipc/${file}`) : undefined;
    if (!text) return;
    const lines = text.split('\n').slice(1).filter(Boolean);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      const users = pidCols.map((c) => Number(f[c])).filter((x) => treePids.has(x));
      if (users.length) finding(users[0], 'sysv-ipc', `SysV ${what} id ${f[1]} (key ${f[0]}) used by the tree: ${fate}`);
    }
  };
  // shm: cpid lpid at 4,5; msg: lspid lrpid at 5,6; sem carries no pids
  scan('shm', 'shared memory segment', [4, 5]);
  scan('msg', 'message queue', [5, 6]);
}

/** Open files (one open() shared by fork or dup) held by several processes of the tree, found with kcmp. */
function noteSharedFiles(procs: Proc[], finding: (p: number, kind: string, message: string, fd?: number) => void): void {
  const byTarget = new Map<string, { pid: number; fd: number }[]>();
  for (const p of procs) {
    if (p.state === 'Z') continue;
    for (const f of p.fds) {
      if (!f.target.startsWith('/') || f.target === '/dev/null') continue;
      if (!byTarget.has(f.target)) byTarget.set(f.target, []);
      byTarget.get(f.target)!.push({ pid: p.pid, fd: f.fd });
    }
  }
  for (const [target, holders] of byTarget) {
    const pids = new Set(holders.map((h) => h.pid));
    if (pids.size < 2) continue;
    const first = holders[0];
    const sharing = holders.filter((h) => h.pid !== first.pid && kcmp(first.pid, h.pid, KcmpType.FILE, first.fd, h.fd) === 0);
    if (sharing.length) {
      finding(first.pid, 'shared-file', `${target} (fd ${first.fd}) is one open file shared with ${sharing.map((h) => `pid ${h.pid} fd ${h.fd}`).join(', ')}`, first.fd);
    }
  }
}
