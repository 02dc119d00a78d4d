// One /proc snapshot of the live tree preflight checks: the root `cryo dump PID` would dump, and for
// each process its ids, tracer, namespaces, fds and maps, read once.
import { CryoError, isCryoError } from '../errors.js';
import { listTree, resolveDumpTarget } from '../kernel/process.js';
import {
  type MapEntry,
  type NamespaceKind,
  type ProcFd,
  CAP_SYS_RESOURCE,
  isKernelThread,
  readCwd,
  readEffectiveCaps,
  readFds,
  readMaps,
  readNamespaces,
  readStat,
  readStatus,
  readTids,
} from '../kernel/proc.js';

export interface ProcessSnapshot {
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
  cwd?: string;
  fds: ProcFd[];
  maps: MapEntry[];
  ns: Partial<Record<NamespaceKind, string>>;
  /** real, effective, saved uid and gid (status Uid, Gid) */
  uids: number[];
  gids: number[];
  kernelThread: boolean;
}

export interface TreeSnapshot {
  /** the pid asked about */
  pid: number;
  /** the tree's root, the pid CRIU dumps */
  rootPid: number;
  /** why `pid` cannot be dumped on its own (it is deep inside a `cryo run` tree) */
  partOf?: CryoError;
  root: ProcessSnapshot;
  /** root first */
  procs: ProcessSnapshot[];
  pids: Set<number>;
  /** cryo's own namespaces */
  selfNs: Partial<Record<NamespaceKind, string>>;
  /** cryo holds CAP_SYS_RESOURCE (CRIU then reads the limits of another uid's process) */
  sysResource: boolean;
}

/** The last (innermost) number of a status line such as NSsid, or `fallback` when the kernel lacks it. */
function innermost(field: string | undefined, fallback: number): number {
  const last = field?.trim().split(/\s+/).pop();
  return last === undefined || last === '' ? fallback : Number(last);
}

/** "0 0 0 0" → the first three (real, effective, saved). */
function ids(field: string | undefined): number[] {
  return (field ?? '').trim().split(/\s+/).slice(0, 3).map(Number).filter((n) => Number.isInteger(n));
}

function snapshotProcess(pid: number): ProcessSnapshot | undefined {
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
    cwd: readCwd(pid),
    fds: readFds(pid),
    maps: readMaps(pid),
    ns: readNamespaces(pid),
    uids: ids(status.Uid),
    gids: ids(status.Gid),
    kernelThread: isKernelThread(pid),
  };
}

function noProcess(pid: number): CryoError {
  return new CryoError('NO_PROCESS', `no process ${pid}`, { hint: 'check the pid (ps -p PID)', details: { pid } });
}

/** Reads the tree `cryo dump PID` would dump; processes that end meanwhile are left out. */
export function snapshotTree(pid: number): TreeSnapshot {
  if (!readStat(pid)) throw noProcess(pid);
  // the same root `cryo dump PID` dumps: for a tree `cryo run` started, its PID namespace's init
  let rootPid = pid;
  let partOf: CryoError | undefined;
  try {
    rootPid = resolveDumpTarget(pid).rootPid;
  } catch (e) {
    if (!isCryoError(e)) throw e;
    partOf = e;
  }
  const root = snapshotProcess(rootPid);
  if (!root) throw noProcess(rootPid);
  const procs: ProcessSnapshot[] = [root];
  for (const p of listTree(rootPid).slice(1)) {
    const c = snapshotProcess(p);
    if (c) procs.push(c);
  }
  return { pid, rootPid, partOf, root, procs, pids: new Set(procs.map((p) => p.pid)), selfNs: readNamespaces('self'), sysResource: (readEffectiveCaps('self') & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n };
}

/** The inode of an fd target "socket:[123]" / "pipe:[45]", or undefined for another kind. */
export function fdInode(target: string, kind: 'socket' | 'pipe'): number | undefined {
  const m = new RegExp(`^${kind}:\\[(\\d+)\\]$`).exec(target);
  return m ? Number(m[1]) : undefined;
}

/** Every holder (pid, fd) of each inode of `kind` in the tree. */
export function holdersByInode(procs: ProcessSnapshot[], kind: 'socket' | 'pipe'): Map<number, { pid: number; fd: number }[]> {
  const out = new Map<number, { pid: number; fd: number }[]>();
  for (const p of procs) {
    for (const f of p.fds) {
      const ino = fdInode(f.target, kind);
      if (ino === undefined) continue;
      if (!out.has(ino)) out.set(ino, []);
      out.get(ino)!.push({ pid: p.pid, fd: f.fd });
    }
  }
  return out;
}
