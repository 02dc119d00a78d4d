// Process rules: the part of a tree that cannot be dumped alone, the root's session, tracers, working
// directory, zombies, stopped processes, and processes sharing an address space or fd table (kcmp).
import { KcmpType, kcmp } from '../kernel/kcmp.js';
import type { RuleContext } from './issues.js';
import { checkPidnsInit, hasOwnPidNs } from './rules-namespaces.js';
import type { ProcessSnapshot } from './snapshot.js';

/** The root as a whole: part of a `cryo run` tree, its pid namespace's init, its session. */
export function checkRoot(ctx: RuleContext): void {
  const { pid, root, pids, partOf } = ctx.tree;
  const { blocker, finding, addOption } = ctx.issues;
  if (partOf) blocker(pid, 'partial-tree', `${partOf.message}${partOf.hint ? `: ${partOf.hint}` : ''}`);
  if (checkPidnsInit(ctx)) return;
  // a kernel thread or the host's init: checkProcess names the real reason
  if (root.kernelThread || (root.pid === 1 && root.nsPid.length === 1)) return;
  if (root.nsSid === 0) {
    // verified in CI: a tree started from a session begun outside the container's pid namespace (sid reads 0
    // there) fails with "A session leader of P(P) is outside of its pid namespace", --shell-job or not
    blocker(root.pid, 'session', `its session leader is outside its pid namespace (the session began outside this container or namespace), which CRIU cannot dump, --shell-job or not: start the tree with setsid or \`cryo run\``);
  } else if (root.sid !== root.pid && hasOwnPidNs(ctx) && !pids.has(root.sid)) {
    // verified: "A session leader of P(1) is outside of its pid namespace"; --shell-job does not help
    blocker(root.pid, 'session', `the namespace's init is not a session leader and its session (${root.sid}) is led from outside the pid namespace: start the init with setsid (e.g. unshare --pid --fork setsid CMD)`);
  } else if (root.sid !== root.pid) {
    addOption('--shell-job');
    const leader = pids.has(root.sid) ? 'inside' : 'outside';
    finding(root.pid, 'session', `not a session leader: its session (${root.sid}) is led from ${leader} the tree (a shell job); needs --shell-job (or start it with setsid)`);
  }
}

/** One process: a kernel thread, another uid, traced, in a deleted directory, a zombie, stopped. */
export function checkProcess(ctx: RuleContext, p: ProcessSnapshot): void {
  const { blocker, finding } = ctx.issues;
  if (p.kernelThread) {
    // verified: "Unable to interrupt task: 2 (Operation not permitted)"
    blocker(p.pid, 'kernel-thread', `${p.comm} is a kernel thread: it has no user space, and CRIU checkpoints only user processes`);
    return;
  }
  if (p.pid === 1 && p.nsPid.length === 1) {
    // verified: the host's init cannot be seized ("Unable to interrupt task: 1 (Operation not permitted)")
    blocker(p.pid, 'init', "the system's init: the kernel does not let CRIU attach to it; checkpoint a tree below it");
  }
  if (!ctx.tree.sysResource && p.state !== 'Z' && otherIds(p)) {
    // verified: CRIU's prlimit on it fails, "Can't get rlimit 0: Operation not permitted"
    blocker(p.pid, 'other-uid', `runs as uid ${showIds(p.uids)} gid ${showIds(p.gids)}, not cryo's ${ownIds()}, and cryo lacks CAP_SYS_RESOURCE: CRIU cannot read its limits ("Can't get rlimit"); run cryo with CAP_SYS_RESOURCE (\`cryo check\` lists the missing capabilities)`);
  }
  if (p.tracerPid !== 0) {
    const who = p.tracedTid ? `its thread ${p.tracedTid} is traced` : 'traced';
    blocker(p.pid, 'traced', `${who} by pid ${p.tracerPid} (${ctx.tree.pids.has(p.tracerPid) ? 'inside' : 'outside'} the tree): CRIU cannot seize a traced task; detach the tracer first`);
  }
  if (p.cwd?.endsWith(' (deleted)')) finding(p.pid, 'deleted-cwd', `works in a deleted directory (${p.cwd.slice(0, -10)}); CRIU recreates it for the restore`);
  if (p.state === 'Z') finding(p.pid, 'zombie', 'a zombie (ended, not reaped); CRIU saves it as such');
  if (p.state === 'T' || p.state === 't') finding(p.pid, 'stopped', 'stopped; CRIU restores it stopped');
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

export interface Sharing {
  sharesVmWith?: number[];
  sharesFdTableWith?: number[];
}

/** Live processes sharing one address space (CLONE_VM without threads) or one fd table (CLONE_FILES). */
export function checkSharedProcesses(ctx: RuleContext): Map<number, Sharing> {
  const out = new Map<number, Sharing>();
  const of = (pid: number): Sharing => {
    if (!out.has(pid)) out.set(pid, {});
    return out.get(pid)!;
  };
  const live = ctx.tree.procs.filter((p) => p.state !== 'Z').map((p) => p.pid);
  for (const g of sharedGroups(live, KcmpType.VM)) {
    for (const p of g) of(p).sharesVmWith = g.filter((x) => x !== p);
    ctx.issues.finding(g[0], 'shared-vm', `processes ${g.join(', ')} share one address space (CLONE_VM without threads)`);
  }
  for (const g of sharedGroups(live, KcmpType.FILES)) {
    for (const p of g) of(p).sharesFdTableWith = g.filter((x) => x !== p);
    ctx.issues.finding(g[0], 'shared-fd-table', `processes ${g.join(', ')} share one fd table (CLONE_FILES)`);
  }
  return out;
}

function ownIds(): string {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  return `uid ${uid} gid ${gid}`;
}

/** The kernel's prlimit rule: without CAP_SYS_RESOURCE, every uid and gid of the task must be the caller's real ones. */
function otherIds(p: ProcessSnapshot): boolean {
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const gid = typeof process.getgid === 'function' ? process.getgid() : 0;
  return p.uids.some((u) => u !== uid) || p.gids.some((g) => g !== gid);
}

/** [65534, 65534, 65534] → "65534"; differing ids as "real/effective/saved". */
function showIds(ids: number[]): string {
  return new Set(ids).size === 1 ? String(ids[0]) : ids.join('/');
}
