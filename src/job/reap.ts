// A job waits for its tree: a restored tree's root is forked by CRIU, which exits after the restore,
// so the job makes itself a child subreaper to inherit the root and reaps it with waitpid(WNOHANG).
import { koffi, libc } from '../kernel/libc.js';

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;
const ECHILD = 10;

interface ReapFns {
  prctl: (option: number, arg2: number, arg3: number, arg4: number, arg5: number) => number;
  waitpid: (pid: number, status: Int32Array, options: number) => number;
}
let fns: ReapFns | undefined;

function bind(): ReapFns {
  fns ??= {
    prctl: libc().func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)') as ReapFns['prctl'],
    waitpid: libc().func('int waitpid(int pid, _Out_ int *status, int options)') as ReapFns['waitpid'],
  };
  return fns;
}

/** Orphaned descendants of this process (a restored root once CRIU exits) become its children. */
export function becomeSubreaper(): void {
  if (bind().prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw new Error(`prctl(PR_SET_CHILD_SUBREAPER) failed (errno ${koffi.errno()})`);
}

/**
 * Reaps `pid` if it has ended: its status (128+n for a signal), undefined while it runs, null when
 * it is not this process's child (someone else reaps it).
 */
export function reapIfEnded(pid: number): number | undefined | null {
  const st = new Int32Array(1);
  const r = bind().waitpid(pid, st, WNOHANG);
  if (r === 0) return undefined;
  if (r < 0) return koffi.errno() === ECHILD ? null : undefined;
  const s = st[0]!;
  return (s & 0x7f) === 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
}
