// pstree.img, read once per checkpoint: the dumped processes (pids as the tree's own namespace sees
// them) with their thread ids, following CRIU's rules for zombies.
import { join } from 'node:path';
import { readImageEntries } from '../images/read-image.js';

export interface PstreeEntry {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** thread ids as CRIU wrote them (for a zombie CRIU 4.2 writes a meaningless one: use `pid`) */
  tids: number[];
}

/** Id of a pstree field: plain numbers in CRIU's images, {virt} objects in older layouts. */
function id(v: unknown): number {
  if (v && typeof v === 'object' && 'virt' in v) return Number((v as { virt: unknown }).virt);
  return Number(v ?? 0);
}

/** The processes of the images directory `dir`, root first. */
export function readPstree(dir: string): PstreeEntry[] {
  return (readImageEntries(join(dir, 'pstree.img'), { magic: 'PSTREE' }) as Array<Record<string, unknown>>).map((e) => ({
    pid: id(e.pid),
    ppid: id(e.ppid),
    pgid: id(e.pgid),
    sid: id(e.sid),
    tids: ((e.threads as unknown[] | undefined) ?? []).map(id),
  }));
}

/** Every pid and tid a restore recreates; a zombie brings back only its pid. */
export function restoredPids(tree: PstreeEntry[], zombies: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const p of tree) {
    out.push(p.pid);
    if (zombies.has(p.pid)) continue;
    for (const t of p.tids) if (t !== p.pid) out.push(t);
  }
  return out;
}
