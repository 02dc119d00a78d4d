// Reads /proc to find which process CRIU must dump: for a tree started by `cryo run` it is the
// PID namespace's init (CRIU dumps a PID namespace only from its init), not the user's command.
import { readFileSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { INIT_NAME, childPids } from './run.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** one-letter state from /proc/PID/stat (R, S, D, Z, T, ...) */
  state: string;
  comm: string;
  /** NSpid: the pid in each nested namespace, outermost first */
  nspid: number[];
}

/** /proc/PID/status facts, or undefined when there is no such process. */
export function readProc(pid: number): ProcInfo | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): string => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(status)?.[1]?.trim() ?? '';
  return {
    pid,
    ppid: Number(field('PPid')),
    state: field('State').charAt(0),
    comm: field('Name'),
    nspid: field('NSpid').split(/\s+/).filter(Boolean).map(Number),
  };
}

function argv(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** True when PID is the init of a tree started by `cryo run` (bash -c SCRIPT cryo-init ...). */
export function isCryoInit(pid: number): boolean {
  const info = readProc(pid);
  if (!info || info.nspid[info.nspid.length - 1] !== 1 || info.nspid.length < 2) return false;
  const a = argv(pid);
  return a[1] === '-c' && a[3] === INIT_NAME;
}

export interface DumpTarget {
  /** the pid CRIU dumps (the tree's root) */
  root: number;
  /** the pid the user named */
  pid: number;
  /** whether the root is cryo's PID-namespace init */
  pidns: boolean;
  /** the user's command inside the namespace (its pid there), when pidns */
  nsPid?: number;
}

/** Maps the pid a user names to the root CRIU must dump. */
export function resolveDumpTarget(pid: number): DumpTarget {
  if (isCryoInit(pid)) {
    const cmd = childPids(pid)[0];
    const nsPid = cmd === undefined ? undefined : readProc(cmd)?.nspid.at(-1);
    return { root: pid, pid: cmd ?? pid, pidns: true, nsPid };
  }
  const info = readProc(pid);
  if (info && info.ppid > 0 && isCryoInit(info.ppid)) {
    return { root: info.ppid, pid, pidns: true, nsPid: info.nspid.at(-1) };
  }
  // deeper inside a cryo tree: CRIU cannot dump part of a PID namespace without its init
  let p = info?.ppid ?? 0;
  for (let depth = 0; p > 1 && depth < 64; depth++) {
    if (isCryoInit(p)) {
      const top = childPids(p)[0];
      throw new CryoError('FAILED', `pid ${pid} is part of the tree that \`cryo run\` started as pid ${top ?? p}; CRIU dumps that tree only as a whole`, {
        hint: `dump ${top ?? p} instead (the whole tree)`,
        details: { pid, treePid: top ?? p, initPid: p },
      });
    }
    p = readProc(p)?.ppid ?? 0;
  }
  return { root: pid, pid, pidns: false };
}

/** Host pid of the process whose innermost pid is `nsPid`, searched among the descendants of `root`. */
export function findInNamespace(root: number, nsPid: number): number | undefined {
  const queue = [root];
  for (let seen = 0; queue.length && seen < 100000; seen++) {
    const p = queue.shift()!;
    if (readProc(p)?.nspid.at(-1) === nsPid) return p;
    queue.push(...childPids(p));
  }
  return undefined;
}
