// The pid a user gives for a checkpoint's process: `cryo run` printed the command's host pid, but a
// tree in its own PID namespace is dumped with its namespace's pids. cryo.json knows both.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointMeta } from '../checkpoint/meta.js';
import type { ImageDir } from '../inspect/images.js';
import { checkpointPids } from '../inspect/search.js';

/** cryo.json before the one-shape refactor: the pids at the top level. */
export interface LegacyCheckpointMeta {
  pid?: number;
  nsPid?: number;
}

/**
 * `pid` itself when the checkpoint has it; else, when it is the host pid the checkpoint was taken
 * from (`tree.pid`, or `pid` in older cryo.json), that process's pid inside the tree (`nsPid`).
 */
export function resolveCheckpointPid(meta: CheckpointMeta | LegacyCheckpointMeta | undefined, pid: number, checkpointPids: readonly number[]): number {
  if (checkpointPids.includes(pid) || !meta) return pid;
  const tree = 'tree' in meta && meta.tree ? meta.tree : (meta as LegacyCheckpointMeta);
  if (tree.pid === pid && typeof tree.nsPid === 'number' && checkpointPids.includes(tree.nsPid)) return tree.nsPid;
  return pid;
}

/** cryo.json of a checkpoint directory (either shape), or undefined for a bare CRIU dump or bad JSON. */
function readCheckpointMetaFile(dir: string): CheckpointMeta | LegacyCheckpointMeta | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(join(dir, 'cryo.json'), 'utf8'));
    return v !== null && typeof v === 'object' ? (v as CheckpointMeta | LegacyCheckpointMeta) : undefined;
  } catch {
    return undefined;
  }
}

/** The `--pid` of inspect, mem and x, as the checkpoint numbers it (validated: NOT_FOUND when absent). */
export function resolvePidOption(img: ImageDir, pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  const resolved = resolveCheckpointPid(readCheckpointMetaFile(img.dir), pid, checkpointPids(img));
  checkpointPids(img, resolved);
  return resolved;
}
