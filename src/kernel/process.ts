// The live process tree as /proc shows it: one process, its tree, cryo's PID-namespace trees, signals.
// Every reader tolerates a process that ends mid-walk: it returns undefined or leaves the process out.
import { readdirSync, readlinkSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { readProcFile, readStatus } from './proc.js';
import { INIT_NAME, childPids } from './run.js';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** one-letter state (R, S, D, T, t, Z, X, ...) */
  state: string;
  comm: string;
  /** NSpid: the pid in each nested PID namespace, outermost first */
  nspid: number[];
  /** real uid and gid (undefined where the kernel does not print them) */
  uid?: number;
  gid?: number;
  /** thread count */
  threads?: number;
  /** resident memory, bytes (undefined for zombies and kernel threads) */
  rssBytes?: number;
}

/** /proc/PID/status facts, or undefined when there is no such process. */
export function readProcess(pid: number): ProcessInfo | undefined {
  const s = readStatus(pid);
  if (!s || s.Name === undefined) return undefined;
  const first = (v: string | undefined): number | undefined => {
    const w = v?.split(/\s+/)[0];
    return w ? Number(w) : undefined;
  };
  const rssKb = first(s.VmRSS);
  return {
    pid,
    ppid: Number(s.PPid ?? 0),
    state: (s.State ?? '').charAt(0),
    // status is read as latin1 (byte-exact): a comm holds UTF-8 bytes
    comm: Buffer.from(s.Name, 'latin1').toString('utf8'),
    nspid: (s.NSpid ?? String(pid)).split(/\s+/).filter(Boolean).map(Number),
    uid: first(s.Uid),
    gid: first(s.Gid),
    threads: first(s.Threads),
    rssBytes: rssKb === undefined ? undefined : rssKb * 1024,
  };
}

/** argv of a process, undefined when it is gone. */
export function readCmdline(pid: number): string[] | undefined {
  const raw = readProcFile(`/proc/${pid}/cmdline`);
  if (raw === undefined) return undefined;
  const parts = Buffer.from(raw, 'latin1').toString('utf8').split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

function listDir(path: string): string[] | undefined {
  try {
    return readdirSync(path);
  } catch {
    return undefined;
  }
}

/** Direct children of every thread of `pid`; a ppid scan of /proc where task/TID/children is absent. */
function readChildren(pid: number): number[] {
  const tasks = listDir(`/proc/${pid}/task`);
  if (!tasks) return [];
  const out: number[] = [];
  let sawFile = false;
  for (const tid of tasks) {
    const text = readProcFile(`/proc/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    sawFile = true;
    for (const w of text.split(' ')) if (w.trim()) out.push(Number(w));
  }
  if (sawFile || tasks.length === 0) return out;
  return (listDir('/proc') ?? []).filter((n) => /^\d+$/.test(n)).map(Number).filter((p) => readProcess(p)?.ppid === pid);
}

/** `rootPid` and all its descendants, root first, breadth first ([] when the root is gone). */
export function listTree(rootPid: number): number[] {
  if (readProcFile(`/proc/${rootPid}/stat`) === undefined) return [];
  const seen = new Set<number>([rootPid]);
  const queue = [rootPid];
  for (let i = 0; i < queue.length; i++) {
    for (const c of readChildren(queue[i])) {
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
      }
    }
  }
  return queue;
}

/** True when PID is the init of a tree started by `cryo run` (bash -c SCRIPT cryo-init ...). */
export function isCryoInit(pid: number): boolean {
  const info = readProcess(pid);
  if (!info || info.nspid.length < 2 || info.nspid.at(-1) !== 1) return false;
  const argv = readCmdline(pid) ?? [];
  return argv[1] === '-c' && argv[3] === INIT_NAME;
}

export interface DumpTarget {
  /** the pid the user named (for a `cryo run` tree named by its init: the command) */
  pid: number;
  /** the pid CRIU dumps: the tree's root */
  rootPid: number;
  /** whether the root is cryo's PID-namespace init */
  pidns: boolean;
  /** the user's command inside the namespace (its pid there), when pidns */
  nsPid?: number;
}

/** Maps the pid a user names to the root CRIU must dump (CRIU dumps a PID namespace only from its init). */
export function resolveDumpTarget(pid: number): DumpTarget {
  if (isCryoInit(pid)) {
    const cmd = childPids(pid)[0];
    const nsPid = cmd === undefined ? undefined : readProcess(cmd)?.nspid.at(-1);
    return { pid: cmd ?? pid, rootPid: pid, pidns: true, nsPid };
  }
  const info = readProcess(pid);
  if (info && info.ppid > 0 && isCryoInit(info.ppid)) {
    return { pid, rootPid: info.ppid, pidns: true, nsPid: info.nspid.at(-1) };
  }
  // deeper inside a cryo tree: CRIU cannot dump part of a PID namespace without its init
  let p = info?.ppid ?? 0;
  for (let depth = 0; p > 1 && depth < 64; depth++) {
    if (isCryoInit(p)) {
      const top = childPids(p)[0] ?? p;
      throw new CryoError('FAILED', `pid ${pid} is part of the tree that \`cryo run\` started as pid ${top}; CRIU dumps that tree only as a whole`, {
        hint: `dump ${top} instead (the whole tree)`,
        details: { pid, treePid: top, rootPid: p },
      });
    }
    p = readProcess(p)?.ppid ?? 0;
  }
  return { pid, rootPid: pid, pidns: false };
}

/** Host pid of the process whose innermost pid is `nsPid`, searched among `rootPid` and its descendants. */
export function findInNamespace(rootPid: number, nsPid: number): number | undefined {
  return listTree(rootPid).find((p) => innermostPid(p) === nsPid);
}

/** Innermost pid of a host pid (as the tree's own PID namespace sees it), undefined when it is gone. */
export function innermostPid(pid: number): number | undefined {
  return readProcess(pid)?.nspid.at(-1);
}

/** True when PID's network namespace differs from ours (CRIU then dumps it and locks its network); true when unreadable. */
export function ownNetns(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`) !== readlinkSync('/proc/self/ns/net');
  } catch {
    return true;
  }
}

/** Sends `signal` to every pid, by number; returns the pids that received it. */
export function signalTree(pids: number[], signal: NodeJS.Signals | number): number[] {
  const hit: number[] = [];
  for (const p of pids) {
    try {
      process.kill(p, signal);
      hit.push(p);
    } catch {
      // already gone
    }
  }
  return hit;
}

function isLive(pid: number): boolean {
  const s = readProcess(pid)?.state;
  return s !== undefined && s !== 'Z' && s !== 'X';
}

/** Waits (at most `maxMs`) until every pid is gone or a zombie; returns the pids still live. */
export async function waitUntilGone(pids: number[], maxMs: number): Promise<number[]> {
  const deadline = performance.now() + maxMs;
  let left = pids.filter(isLive);
  for (let delay = 1; left.length > 0 && performance.now() < deadline; delay = Math.min(delay * 2, 20)) {
    await new Promise((r) => setTimeout(r, delay));
    left = left.filter(isLive);
  }
  return left;
}

/** Resident memory of the tree rooted at `rootPid` (an upper bound for its page images), bytes. */
export function treeMemoryBytes(rootPid: number): number {
  let total = 0;
  for (const p of listTree(rootPid)) total += readProcess(p)?.rssBytes ?? 0;
  return total;
}
