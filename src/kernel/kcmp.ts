// kcmp(2): does the kernel object behind two processes' handles coincide (same open file, same mm, same fd table)?
import { koffi, libc } from './libc.js';

const SYS_KCMP_X86_64 = 312;
const SYS_KCMP_AARCH64 = 272;

export const KcmpType = { FILE: 0, VM: 1, FILES: 2, FS: 3, SIGHAND: 4, IO: 5, SYSVSEM: 6 } as const;
export type KcmpType = (typeof KcmpType)[keyof typeof KcmpType];

type SyscallFn = (...args: unknown[]) => number | bigint;
let syscallFn: SyscallFn | undefined;

function sysKcmp(): number {
  return process.arch === 'arm64' ? SYS_KCMP_AARCH64 : SYS_KCMP_X86_64;
}

/**
 * kcmp(pid1, pid2, type, idx1, idx2): 0 when both refer to the same kernel object, 1 or 2 for an order
 * (so objects can be sorted), 3 when not comparable; -errno on failure (ESRCH: a process ended, EPERM).
 */
export function kcmp(pid1: number, pid2: number, type: KcmpType, idx1 = 0, idx2 = 0): number {
  syscallFn ??= libc().func('long syscall(long number, ...)') as SyscallFn;
  const r = Number(
    syscallFn(sysKcmp(), 'int', pid1, 'int', pid2, 'int', type, 'unsigned long', idx1, 'unsigned long', idx2),
  );
  return r < 0 ? -koffi.errno() : r;
}

/** Same open file description (the result of one open(), shared by dup or fork)? */
export function sameFile(pid1: number, fd1: number, pid2: number, fd2: number): boolean {
  return kcmp(pid1, pid2, KcmpType.FILE, fd1, fd2) === 0;
}

