// Staging directories in RAM (tmpfs) for images on their way into or out of an archive.
// Names carry the owner's pid so that leftovers of a killed cryo (images hold memory, that
// is secrets) are removed by the next run.
import { existsSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';

const TMPFS_MAGIC = 0x01021994;

/** Where staging dirs go: $CRYO_STAGING, /dev/shm when it is tmpfs, else the OS temp dir. */
export function stagingRoot(): string {
  if (process.env.CRYO_STAGING) return process.env.CRYO_STAGING;
  try {
    if (existsSync('/dev/shm') && statfsSync('/dev/shm').type === TMPFS_MAGIC) return '/dev/shm';
  } catch {
    // fall through
  }
  return os.tmpdir();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging dirs left behind by cryo processes that no longer exist. */
export function removeStaleStaging(root = stagingRoot()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = /^cryo-(dump|restore|open)-(\d+)-/.exec(n);
    if (!m || Number(m[2]) === process.pid || alive(Number(m[2]))) continue;
    try {
      rmSync(join(root, n), { recursive: true, force: true });
      removed.push(n);
    } catch {
      // not ours to worry about
    }
  }
  return removed;
}

export interface Staging {
  dir: string;
  remove(): Promise<void>;
}

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 0;
  }
}

/**
 * The staging root for about `bytes` of images: RAM (/dev/shm) when it has room, else the OS temp
 * dir (slower, but a small /dev/shm, as in containers, must not fail the dump).
 */
export function stagingRootFor(bytes: number): string {
  const first = stagingRoot();
  const need = bytes * 1.1 + (16 << 20);
  if (process.env.CRYO_STAGING || freeBytes(first) >= need) return first;
  const second = os.tmpdir();
  return freeBytes(second) >= need ? second : first;
}

/** A fresh 0700 staging directory. */
export async function createStaging(kind: 'dump' | 'restore' | 'open', root = stagingRoot()): Promise<Staging> {
  // both roots: a killed dump may have staged in the other one
  for (const r of new Set([root, stagingRoot(), os.tmpdir()])) removeStaleStaging(r);
  const dir = await mkdtemp(join(root, `cryo-${kind}-${process.pid}-`));
  await chmod(dir, 0o700);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
