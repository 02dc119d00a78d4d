// Resuming a tree a dump left stopped (--leave-stopped), init included.
import { CryoError } from '../errors.js';
import { parsePid } from '../criu/options.js';
import { listTree, readProcess, resolveDumpTarget, signalTree } from '../kernel/process.js';

export interface ResumeResult {
  pid: number;
  rootPid: number;
  /** the pids that were sent SIGCONT, root first */
  pids: number[];
}

/** Sends SIGCONT to every process of the tree `pid` belongs to (for `cryo run` trees: from its init down). */
export function resume(pid: number): ResumeResult {
  pid = parsePid(pid);
  if (!readProcess(pid)) {
    throw new CryoError('NO_PROCESS', `no process with pid ${pid}`, { hint: 'give the pid `cryo dump` printed (its "resume" command names it)', details: { pid } });
  }
  const target = resolveDumpTarget(pid);
  const pids = signalTree(listTree(target.rootPid), 'SIGCONT');
  return { pid: target.pid, rootPid: target.rootPid, pids };
}
