// The preflight report: plain data, rendered by the CLI as text or JSON.

export interface PreflightIssue {
  pid: number;
  fd?: number;
  /** machine-readable kind: "tcp-established", "unix-external", "file-lock", "io_uring", "traced", ... */
  kind: string;
  /** one line, plain words */
  message: string;
}

export interface PreflightProcess {
  pid: number;
  ppid: number;
  comm: string;
  /** R, S, T, Z, ... */
  state: string;
  threads: number;
  pgid: number;
  sid: number;
  /** 0 when not traced */
  tracerPid: number;
  fds: number;
  /** pids in the tree sharing this process's address space (CLONE_VM without threads) */
  sharesVmWith?: number[];
  /** pids in the tree sharing this process's fd table (CLONE_FILES) */
  sharesFdTableWith?: number[];
}

export interface PreflightReport {
  /** the pid asked about */
  pid: number;
  /** the tree's root, the pid CRIU dumps: `pid`, or the PID-namespace init of a tree `cryo run` started */
  rootPid: number;
  /** true when `cryo dump PID` with no extra options is predicted to succeed */
  dumpable: boolean;
  /** extra `cryo dump` argv, CRIU's option names, that make the dump succeed (when there is no blocker) */
  options: string[];
  /** what no option fixes */
  blockers: PreflightIssue[];
  /** every notable resource, with a one-line explanation */
  findings: PreflightIssue[];
  processes: PreflightProcess[];
}

export interface PreflightOptions {
  /** CRIU's ghost-file limit the dump will use, bytes; default 1 MiB (CRIU's default) */
  ghostLimit?: number;
}

export const DEFAULT_GHOST_LIMIT = 1 << 20;
