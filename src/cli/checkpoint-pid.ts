// The pid a user gives for a checkpoint's process: `cryo run` printed the command's host pid, but a
// tree in its own PID namespace is dumped with its namespace's pids. cryo.json knows both.
import { readMeta } from '../checkpoint/meta-file.js';
import type { CheckpointMeta } from '../checkpoint/meta.js';
import type { ImageDir } from '../inspect/images.js';
import { checkpointPids } from '../inspect/search.js';

/**
 * `pid` itself when the checkpoint has it; else, when it is the host pid the checkpoint was taken
 * from (`tree.pid`), that process's pid inside the tree (`nsPid`).
 */
export function resolveCheckpointPid(meta: CheckpointMeta | undefined, pid: number, checkpointPids: readonly number[]): number {
  if (checkpointPids.includes(pid) || !meta) return pid;
  const tree = meta.tree;
  if (tree.pid === pid && typeof tree.nsPid === 'number' && checkpointPids.includes(tree.nsPid)) return tree.nsPid;
  return pid;
}

/** The `--pid` of inspect, mem and x, as the checkpoint numbers it (validated: NOT_FOUND when absent). */
export function resolvePidOption(img: ImageDir, pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const resolved = resolveCheckpointPid(readMeta(img.dir), pid, checkpointPids(img));
  checkpointPids(img, resolved);
  return resolved;
}
