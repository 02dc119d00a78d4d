// Names of the temp files and dirs a dump puts next to its target: `.NAME.cryo-tmp-PID-XXXXXX`
// (directories) and `.NAME.cryo-PID-HEX` (archive and cryo.json temps). The owner's pid in the name
// lets a later cryo remove what a killed one left (full memory images, that is secrets).
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const TEMP = /^\..+\.cryo-(?:tmp-)?(\d+)-[A-Za-z0-9]+(?:-old)?$/;

/** A random private file name for `base` in `dir` carrying this process's pid. */
export function tempFileName(dir: string, base: string): string {
  return join(dir, `.${base}.cryo-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** The mkdtemp prefix of a temp dir for `base` in `dir`. */
export function tempDirPrefix(dir: string, base: string): string {
  return join(dir, `.${base}.cryo-tmp-${process.pid}-`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the temps in `dir` whose owner (our uid) no longer runs; returns their names. */
export function removeDeadTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const uid = process.getuid?.() ?? 0;
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    try {
      // never another user's file: a planted name is theirs to keep
      if (lstatSync(join(dir, n)).uid !== uid) continue;
      rmSync(join(dir, n), { recursive: true, force: true });
      removed.push(n);
    } catch {
      // gone already
    }
  }
  return removed;
}
