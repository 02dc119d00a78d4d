// Readers for /proc/<pid>/* files: stat, status, fds with fdinfo, maps, namespaces (the tree: process.ts).
// Every reader tolerates a process that ends mid-walk: it returns undefined or empty data.
import { readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function readLink(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, T, t, Z, ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** controlling terminal device number, 0 for none */
  ttyNr: number;
}

export function readStat(pid: number): ProcStat | undefined {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return undefined;
  // comm may hold spaces and parentheses: the fields start after the last ')'
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  return { pid, comm, state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), session: Number(f[3]), ttyNr: Number(f[4]) };
}

const PF_KTHREAD = 0x00200000;

/** True when `pid` is a kernel thread (no user space: nothing CRIU can checkpoint). */
export function isKernelThread(pid: number): boolean {
  const text = readText(`/proc/${pid}/stat`);
  if (!text) return false;
  // flags is the 7th field after the comm's closing parenthesis
  const flags = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[6]);
  return (flags & PF_KTHREAD) !== 0;
}

/** The effective capability set of a process (status CapEff), 0n when unreadable. */
export function readEffectiveCaps(pid: number | 'self'): bigint {
  const m = /CapEff:\s*([0-9a-f]+)/.exec(readText(`/proc/${pid}/status`) ?? '');
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export const CAP_SYS_RESOURCE = 24;

/** /proc/<pid>/status as key -> value (values trimmed). */
export function readStatus(pid: number): Record<string, string> | undefined {
  const text = readText(`/proc/${pid}/status`);
  if (!text) return undefined;
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export interface FdInfo {
  pos: number;
  /** octal open flags as the kernel prints them */
  flags: number;
  mntId: number;
  ino: number;
  /** "lock:" lines: "1: FLOCK  ADVISORY  WRITE 6778 fe:00:2155648 0 EOF" */
  locks: string[];
  /** every other "key: value" line (tty-index, eventfd-count, ...) */
  extra: Record<string, string>;
}

export interface ProcFd {
  fd: number;
  /** readlink of /proc/<pid>/fd/<n>: a path, "socket:[123]", "pipe:[45]", "anon_inode:[eventfd]", ... */
  target: string;
  info?: FdInfo;
}

export function parseFdInfo(text: string): FdInfo {
  const info: FdInfo = { pos: 0, flags: 0, mntId: 0, ino: 0, locks: [], extra: {} };
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const key = line.slice(0, i);
    const value = line.slice(i + 1).trim();
    if (key === 'pos') info.pos = Number(value);
    else if (key === 'flags') info.flags = Number.parseInt(value, 8);
    else if (key === 'mnt_id') info.mntId = Number(value);
    else if (key === 'ino') info.ino = Number(value);
    else if (key === 'lock') info.locks.push(value);
    else info.extra[key] = value;
  }
  return info;
}

export function readFds(pid: number): ProcFd[] {
  const out: ProcFd[] = [];
  for (const name of listDir(`/proc/${pid}/fd`)) {
    const target = readLink(`/proc/${pid}/fd/${name}`);
    if (target === undefined) continue;
    const infoText = readText(`/proc/${pid}/fdinfo/${name}`);
    out.push({ fd: Number(name), target, info: infoText === undefined ? undefined : parseFdInfo(infoText) });
  }
  return out.sort((a, b) => a.fd - b.fd);
}

export interface FileStat {
  size: number;
  dev: number;
  ino: number;
  mode: number;
  /** 0 for a deleted file no other name links */
  nlink: number;
}

function statPath(path: string): FileStat | undefined {
  try {
    const st = statSync(path);
    return { size: st.size, dev: st.dev, ino: st.ino, mode: st.mode, nlink: st.nlink };
  } catch {
    return undefined;
  }
}

/** The file behind an fd (works for deleted files too). */
export function statFd(pid: number, fd: number): FileStat | undefined {
  return statPath(`/proc/${pid}/fd/${fd}`);
}

/** The file behind a file-backed mapping (map_files/START-END; works for deleted files too). */
export function statMapFile(pid: number, start: bigint, end: bigint): FileStat | undefined {
  return statPath(`/proc/${pid}/map_files/${start.toString(16)}-${end.toString(16)}`);
}

/** The working directory ("... (deleted)" when removed), or undefined. */
export function readCwd(pid: number): string | undefined {
  return readLink(`/proc/${pid}/cwd`);
}

export interface MapEntry {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  dev: string;
  inode: number;
  /** path, "[heap]", "/SYSV0000abcd (deleted)", or "" for anonymous */
  path: string;
}

export function parseMaps(text: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({
      start: BigInt('0x' + m[1]),
      end: BigInt('0x' + m[2]),
      perms: m[3],
      offset: BigInt('0x' + m[4]),
      dev: m[5],
      inode: Number(m[6]),
      path: m[7],
    });
  }
  return out;
}

export function readMaps(pid: number): MapEntry[] {
  const text = readText(`/proc/${pid}/maps`);
  return text ? parseMaps(text) : [];
}

const NAMESPACES = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'] as const;
export type NamespaceKind = (typeof NAMESPACES)[number];

/** Namespace ids ("ipc:[4026531839]") by kind; "self" reads the caller's own. */
export function readNamespaces(pid: number | 'self'): Partial<Record<NamespaceKind, string>> {
  const out: Partial<Record<NamespaceKind, string>> = {};
  for (const kind of NAMESPACES) {
    const link = readLink(`/proc/${pid}/ns/${kind}`);
    if (link) out[kind] = link;
  }
  return out;
}

export function readMountinfo(pid: number): string[] {
  const text = readText(`/proc/${pid}/mountinfo`);
  return text ? text.split('\n').filter(Boolean) : [];
}

export function readTids(pid: number): number[] {
  return listDir(`/proc/${pid}/task`).map(Number);
}

/** Text of any /proc file, or undefined. */
export function readProcFile(path: string): string | undefined {
  return readText(path);
}
