// Pipes for a job's tree: the tree writes its stdout/stderr into them, the job reads and copies
// them out. Node makes no bare pipe fds, so pipe2 comes from libc through koffi.
import { closeSync, fstatSync } from 'node:fs';
import { koffi, libc } from '../kernel/libc.js';

const O_CLOEXEC = 0o2000000;

let pipe2: ((fds: Int32Array, flags: number) => number) | undefined;

/** A pipe: `read` and `write` fds (close-on-exec), and its inode (what CRIU calls `pipe:[INODE]`). */
export interface Pipe {
  read: number;
  write: number;
  inode: number;
}

export function openPipe(): Pipe {
  pipe2 ??= libc().func('int pipe2(_Out_ int *fds, int flags)') as (fds: Int32Array, flags: number) => number;
  const fds = new Int32Array(2);
  if (pipe2(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed (errno ${koffi.errno()})`);
  return { read: fds[0]!, write: fds[1]!, inode: fstatSync(fds[0]!).ino };
}

/** Closes an fd, ignoring one already closed. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
