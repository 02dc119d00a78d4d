// Host pids of a live (stopped) tree and the signals that resume or end it. cryo ends a tree
// itself only after its checkpoint (directory or archive) is safely written; every pid is signalled by number.
import { readdirSync, readFileSync } from 'node:fs';

function children(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** `root` and all its descendants, root first (breadth first). */
export function treePids(root: number): number[] {
  const seen = new Set<number>([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const c of children(queue[i])) {
      if (!seen.has(c)) {
        seen.add(c);
        queue.push(c);
      }
    }
  }
  return queue;
}

/** Innermost pid (as the tree's own pid namespace sees it) of a host pid. */
export function innermostPid(pid: number): number | undefined {
  try {
    const m = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1].trim().split(/\s+/).at(-1)) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` to every pid; returns the pids that received it. */
export function signalAll(pids: number[], signal: NodeJS.Signals): number[] {
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
