// The facts a checkpoint records about each file its tree depends on, and how a file on this
// machine compares with them (what check -i reports and restore refuses on).
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import type { CheckpointDependency } from './meta.js';
import { readBuildId } from './files-elf.js';

const CHUNK = 1 << 20;

/** sha256 of the first `size` bytes of the file open at `fd`. */
export function hashFd(fd: number, size: number): string {
  const hash = createHash('sha256');
  const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
  for (let done = 0; done < size;) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - done), done);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    done += n;
  }
  return hash.digest('hex');
}

/** Opens a regular file for reading without following a final link or blocking on a FIFO. */
export function openRegular(path: string): { fd: number; st: Stats } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (st.isFile()) return { fd, st };
  } catch {
    // fall through: not readable as a file
  }
  closeSync(fd);
  return undefined;
}

export type FileVerdict =
  | { state: 'same' }
  | { state: 'missing' }
  | { state: 'changed'; why: string }
  | { state: 'other-kind'; why: string };

/** How the file at dep.path on this machine compares with what the checkpoint recorded. */
export function compareDependency(dep: CheckpointDependency, sha256 = dep.sha256): FileVerdict {
  let st: Stats | undefined;
  try {
    st = lstatSync(dep.path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return { state: 'missing' };
    return { state: 'changed', why: `cannot be read here (${(e as NodeJS.ErrnoException).code})` };
  }
  if (dep.kind === 'dir') return st.isDirectory() ? { state: 'same' } : { state: 'other-kind', why: 'is not a directory here' };
  if (!st.isFile()) return { state: 'other-kind', why: st.isDirectory() ? 'is a directory here' : 'is not a regular file here' };
  const opened = openRegular(dep.path);
  if (!opened) return { state: 'changed', why: 'cannot be read here' };
  try {
    if (dep.buildId) {
      const id = readBuildId(opened.fd);
      if (id !== dep.buildId) return { state: 'changed', why: `is another build here (build-id ${id ?? 'none'}, the checkpoint's is ${dep.buildId})` };
    }
    if (opened.st.size !== dep.size) return { state: 'changed', why: `has ${opened.st.size} bytes here, ${dep.size} at the dump` };
    if (sha256 && hashFd(opened.fd, opened.st.size) !== sha256) return { state: 'changed', why: 'has other contents here (sha256 differs)' };
    return { state: 'same' };
  } finally {
    closeSync(opened.fd);
  }
}
