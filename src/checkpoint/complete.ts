// Is an images directory a complete checkpoint? CRIU's own rules: every task has core-<pid>.img; a
// zombie (task_state 2) has nothing else and its thread list means nothing; a live or stopped task
// has a core per thread, mm-<pid>.img and pagemap-<pid>.img, and the pages file its pagemap names
// holds exactly the pages the pagemap marks present. Checked before a checkpoint is committed and
// before CRIU is asked to restore one.
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import { readImageLean } from '../images/read-image.js';
import { MARKER } from './meta-file.js';
import { readPstree, type PstreeEntry } from './pstree.js';

const PAGE_SIZE = 4096;
const TASK_DEAD = 2;
const PE_PARENT = 1;
const PE_PRESENT = 4;

/** What a directory holds: nothing, a checkpoint (cryo's or bare CRIU's), or other files. */
/** `failed`: only the dump.log a failed dump left (a new dump may take the directory). */
export type DirKind = 'missing' | 'empty' | 'failed' | 'checkpoint' | 'incomplete' | 'other' | 'not-dir';

export function classifyDir(dir: string): DirKind {
  let names: string[];
  try {
    if (!lstatSync(dir).isDirectory()) return 'not-dir';
    names = readdirSync(dir);
  } catch {
    return 'missing';
  }
  if (names.length === 0) return 'empty';
  if (names.length === 1 && names[0] === 'dump.log') return 'failed';
  if (names.includes('inventory.img')) return 'checkpoint';
  if (names.includes(MARKER) || names.some((n) => n.endsWith('.img'))) return 'incomplete';
  return 'other';
}

function incomplete(dir: string, missing: string[], what = 'missing'): CryoError {
  return new CryoError('BAD_IMAGE', `the checkpoint at ${dir} is incomplete: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''} ${what}`, {
    hint: 'the checkpoint was damaged or only partly written or copied; use a complete copy or dump again',
    details: { dir, missing },
  });
}

function regularSize(dir: string, name: string): number | undefined {
  try {
    const st = lstatSync(join(dir, name));
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

function taskState(dir: string, pid: number): number {
  const core = readImageLean(join(dir, `core-${pid}.img`), { fields: ['tc.task_state'] }).entries[0] as { tc?: { task_state?: unknown } } | undefined;
  return Number(core?.tc?.task_state ?? 0);
}

/** Pages the pagemap marks present, and the pages file that must hold them. */
function presentPages(dir: string, pid: number): { pagesFile: string; pages: number } {
  const entries = readImageLean(join(dir, `pagemap-${pid}.img`)).entries as Array<Record<string, unknown>>;
  const head = entries[0];
  if (head?.pages_id === undefined) throw incomplete(dir, [`pagemap-${pid}.img`], 'has no pagemap head');
  let pages = 0;
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    const flags = e.flags !== undefined ? Number(e.flags) : e.in_parent ? PE_PARENT : PE_PRESENT;
    if (flags & PE_PRESENT) pages += Number(e.nr_pages ?? e.compat_nr_pages ?? 0);
  }
  return { pagesFile: `pages-${Number(head.pages_id)}.img`, pages };
}

/**
 * Throws BAD_IMAGE (exit 4) naming what is missing unless `dir` holds a complete CRIU image set;
 * returns the pstree read on the way and the pids of the zombies in it.
 */
export function assertComplete(dir: string): { tree: PstreeEntry[]; zombies: Set<number> } {
  const kind = classifyDir(dir);
  const hint = 'pass a checkpoint directory written by cryo dump or criu dump';
  if (kind === 'missing') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: no such directory`, { hint });
  if (kind === 'not-dir') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: not a directory`, { hint });
  if (kind === 'empty') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: the directory is empty`, { hint });
  if (kind === 'failed') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: it holds only the log of a failed dump`, { hint: `read ${join(dir, 'dump.log')}, then dump again` });
  if (kind === 'other') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: it holds no CRIU images`, { hint });
  if (kind === 'incomplete') throw incomplete(dir, ['inventory.img']);
  const sizes = new Map<string, number | undefined>();
  const size = (name: string) => {
    if (!sizes.has(name)) sizes.set(name, regularSize(dir, name));
    return sizes.get(name);
  };
  if (size('pstree.img') === undefined) throw incomplete(dir, ['pstree.img']);
  const tree = readPstree(dir);
  if (tree.length === 0) throw incomplete(dir, ['pstree.img'], 'lists no process');
  const missing: string[] = [];
  const wrong: string[] = [];
  const zombies = new Set<number>();
  for (const p of tree) {
    if (size(`core-${p.pid}.img`) === undefined) {
      missing.push(`core-${p.pid}.img`);
      continue;
    }
    if (taskState(dir, p.pid) === TASK_DEAD) {
      zombies.add(p.pid);
      continue;
    }
    for (const t of p.tids) if (t !== p.pid && size(`core-${t}.img`) === undefined) missing.push(`core-${t}.img`);
    for (const n of [`mm-${p.pid}.img`, `pagemap-${p.pid}.img`]) if (size(n) === undefined) missing.push(n);
    if (size(`pagemap-${p.pid}.img`) === undefined) continue;
    const { pagesFile, pages } = presentPages(dir, p.pid);
    const have = size(pagesFile);
    if (pages > 0 && have === undefined) missing.push(pagesFile);
    else if (have !== undefined && have !== pages * PAGE_SIZE) wrong.push(`${pagesFile} (${have} bytes, the pagemap says ${pages * PAGE_SIZE})`);
  }
  // fdinfo images name their files in files.img: without it CRIU's restorer crashes (exit 1, not 4)
  if (size('files.img') === undefined && readdirSync(dir).some((n) => /^fdinfo-\d+\.img$/.test(n))) missing.push('files.img');
  if (missing.length) throw incomplete(dir, missing);
  if (wrong.length) throw incomplete(dir, wrong, 'has the wrong size');
  return { tree, zombies };
}
