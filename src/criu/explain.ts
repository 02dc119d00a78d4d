// Plain-words causes and fixes for failed CRIU runs, read from CRIU's log lines.
// Each rule was written from a real failing run of CRIU 4.2.1 on this project's kernel;
// CRIU's own hint is repeated only where it was verified to be the fix.

export type CriuAction = 'dump' | 'restore';

export interface ExplainInput {
  action: CriuAction;
  /** CRIU's log text (any verbosity) */
  log: string;
  /** cr_errno from CRIU's RPC answer */
  crErrno?: number;
  /** cr_errmsg from CRIU's RPC answer (may be empty) */
  crErrmsg?: string;
  /** what the live system says about a task CRIU could not attach to (undefined: unknown or gone) */
  describeTask?: (pid: number) => TaskFacts | undefined;
}

/** Facts about a live task that decide why CRIU could not seize it. */
export interface TaskFacts {
  kernelThread: boolean;
  /** 0 when no thread of it is traced */
  tracerPid: number;
  /** true when it is the init of cryo's own pid namespace (the host's pid 1) */
  init?: boolean;
}

export interface Explanation {
  /** what went wrong, in plain words, one line */
  cause: string;
  /** what to do about it, one line */
  fix?: string;
  /** extra `cryo dump` / `cryo restore` argv that fixes it */
  options?: string[];
  /** the CRIU log line the explanation was drawn from */
  line?: string;
}

interface Rule {
  action?: CriuAction;
  /** matched against each log line (and cr_errmsg) */
  re: RegExp;
  explain: (m: RegExpMatchArray, log: string, input: ExplainInput) => Omit<Explanation, 'line'>;
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY', 17: 'EEXIST', 22: 'EINVAL', 24: 'EMFILE', 28: 'ENOSPC', 30: 'EROFS', 122: 'EDQUOT' };

/** Ordered: specific causes first, consequences ("Dumping FAILED") never match. */
const RULES: Rule[] = [
  {
    // --tcp-established without a working iptables: the default network-lock backend is missing.
    re: /Iptables configuration failed|Locking network failed: iptables-restore/,
    explain: () => ({
      cause: "CRIU could not lock the TCP connections: its default network-lock backend (iptables) is missing",
      fix: 'use the nftables backend: --network-lock nftables',
      options: ['--network-lock', 'nftables'],
    }),
  },
  {
    action: 'dump',
    re: /Connected TCP socket, consider using --tcp-established/,
    explain: () => ({
      cause: 'the tree has an established TCP connection',
      fix: 'dump (and later restore) with --tcp-established; the connection is frozen while dumping',
      options: ['--tcp-established'],
    }),
  },
  {
    action: 'restore',
    re: /Connected TCP socket in image/,
    explain: () => ({
      cause: 'the images hold an established TCP connection',
      fix: 'restore with --tcp-established',
      options: ['--tcp-established'],
    }),
  },
  {
    action: 'dump',
    re: /External socket is used|Can't dump half of stream unix connection/,
    explain: (_m, log) => explainExternalUnix(log),
  },
  {
    action: 'restore',
    re: /External socket found in image/,
    explain: () => ({
      cause: 'the images hold a unix socket connected to a peer outside the tree',
      fix: 'restore with --ext-unix-sk: CRIU reconnects it to the same path, so the server must be listening',
      options: ['--ext-unix-sk'],
    }),
  },
  {
    action: 'restore',
    re: /unix: Can't connect (\d+) socket: Connection refused/,
    explain: () => ({
      cause: 'a unix socket of the tree was connected to a server that is not listening any more',
      fix: 'start the server on the same socket path before restoring',
    }),
  },
  {
    re: /Some file locks are hold by dumping tasks/,
    explain: () => ({
      cause: 'a process of the tree holds a file lock (flock or POSIX lock)',
      fix: 'dump (and later restore) with --file-locks; the locked file must be the same at restore',
      options: ['--file-locks'],
    }),
  },
  {
    action: 'dump',
    re: /Can't dump ghost file (.*) of (\d+) size, increase limit/,
    explain: (m) => {
      const need = roundUpMiB(Number(m[2]));
      return {
        cause: `a process keeps a deleted file open (${m[1]}, ${m[2]} bytes) larger than CRIU's ghost-file limit`,
        fix: `raise the limit: --ghost-limit ${need}`,
        options: ['--ghost-limit', String(need)],
      };
    },
  },
  {
    action: 'dump',
    re: /Can't create link remap for (.*)\. Use link-remap option/,
    explain: (m) => ({
      cause: `a process has ${m[1]} open under a removed name while the file still has another link`,
      fix: 'dump with --link-remap',
      options: ['--link-remap'],
    }),
  },
  {
    action: 'dump',
    // The kernel refuses to pass io_uring descriptors over SCM_RIGHTS (EINVAL); CRIU 4.2 cannot dump io_uring.
    re: /send_fds failed \(-22\)|Can't retrieve FDs from socket/,
    explain: () => ({
      cause: 'a process holds a descriptor CRIU cannot collect (an io_uring instance, most likely); CRIU 4.2 cannot dump io_uring',
      fix: 'close the io_uring instance (or run without it) before checkpointing; `cryo check --pid PID` names the fd',
    }),
  },
  {
    action: 'dump',
    re: /Unable to interrupt task: (\d+) \(Operation not permitted\)|Unable to seize (\d+)|Can't seize task (\d+)/,
    explain: (m, _log, input) => explainSeize(Number(m[1] ?? m[2] ?? m[3]), input.describeTask),
  },
  {
    action: 'dump',
    re: /Unable to interrupt task: (\d+) \(No such process\)|Failed to open \/proc\/(\d+)\/comm/,
    explain: (m) => ({
      cause: `process ${m[1] ?? m[2]} does not exist (or ended during the dump)`,
      fix: 'check the pid',
    }),
  },
  {
    re: /Found slave peer index (\d+) without correspond master peer/,
    explain: (m) => ({
      cause: `a process uses a terminal (/dev/pts/${m[1]}) whose master side is outside the tree`,
      fix: 'dump and restore with --shell-job (or start the tree with its own stdio, not a terminal)',
      options: ['--shell-job'],
    }),
  },
  {
    action: 'dump',
    re: /The root process (\d+) is not a session leader/,
    explain: (m, log) =>
      // inside its own pid namespace, a root that is not pid 1 there is not the namespace's init: --shell-job
      // then fails with "Can't dump a pid namespace without the process init" (verified)
      /Will take pid namespace in the image/.test(log) && m[1] !== '1'
        ? {
            cause: `the pid is inside a pid namespace (pid ${m[1]} there) but is not its init; CRIU dumps a pid namespace only from its init`,
            fix: "dump the namespace's init instead (the first process of the namespace)",
          }
        : {
            cause: `the tree (root ${m[1]}) belongs to a session led by a process outside it (started from a shell or a job)`,
            fix: 'dump and restore with --shell-job, or start the tree with setsid',
            options: ['--shell-job'],
          },
  },
  {
    action: 'dump',
    re: /A session leader of (\S+) is outside of its pid namespace/,
    explain: (m) => {
      // m[1] is "REAL(VIRT)": VIRT 1 is a namespace's init; otherwise the session began outside cryo's own
      // pid namespace (a container started from a session on the host)
      const init = /\(1\)$/.test(m[1]);
      return {
        cause: init
          ? `the pid namespace's init (${m[1]}) is not a session leader: its session is led from outside the namespace`
          : `the session leader of ${m[1]} is outside its pid namespace (the session began outside this container or namespace)`,
        fix: init
          ? 'start the namespace\'s init with setsid (e.g. `unshare --pid --fork setsid CMD`); --shell-job does not help here'
          : 'start the tree with setsid or `cryo run`; --shell-job does not help here',
      };
    },
  },
  {
    action: 'dump',
    re: /Can't dump a pid namespace without the process init/,
    explain: () => ({
      cause: 'the pid is inside a pid namespace but is not its init; CRIU dumps a pid namespace only from its init',
      fix: "dump the namespace's init instead (the first process of the namespace)",
    }),
  },
  {
    action: 'dump',
    re: /Can't lookup mount=(\d+) for fd=(\d+) path=(.*)$/,
    explain: (m) => ({
      cause: `fd ${m[2]} (${m[3]}) is open on a mount outside the process's mount namespace (opened before entering it)`,
      fix: 'open the file inside the namespace (e.g. redirect stdio after unshare --mount)',
    }),
  },
  {
    action: 'dump',
    re: /mnt: \d+:\.(\S+) doesn't have a proper root mount/,
    explain: (m) => ({
      cause: `the tree's own mount namespace holds ${m[1]}, a mount CRIU cannot dump (a bind mount of a namespace file, such as ip netns makes)`,
      fix: `unmount ${m[1]} inside the tree's mount namespace, or start the tree without its own mount namespace`,
    }),
  },
  {
    action: 'dump',
    re: /Can't dump tmpfs content/,
    explain: () => ({
      cause: "CRIU could not copy a tmpfs mount of the tree's own mount namespace (its content changed or could not be read)",
      fix: 'retry when the tmpfs content is quiet, or run the tree without its own mount namespace',
    }),
  },
  {
    action: 'dump',
    re: /Can't dump nested (\w+?)(?:_for_children)? namespace for (\d+)/,
    explain: (m) => ({
      cause: `process ${m[2]} runs in a ${m[1]} namespace of its own below the tree's root, and CRIU cannot dump a nested ${m[1]} namespace`,
      fix: `start the whole tree in that namespace instead (${m[1] === 'ipc' || m[1] === 'uts' ? `\`cryo run --${m[1]} -- CMD\`` : `e.g. \`setsid unshare --${m[1]}${m[1] === 'pid' || m[1] === 'time' ? ' --fork' : ''} CMD\`, then dump that pid`})`,
    }),
  },
  {
    action: 'restore',
    // verified: a `cryo run --own-proc` tree restored without a root: CRIU 4.2.1 hits this BUG, then its restorer segfaults
    re: /mnt: BUG at criu\/mount\.c:\d+/,
    explain: () => ({
      cause: 'the tree has a mount namespace of its own (e.g. `cryo run --own-proc`), and CRIU cannot restore it without a root directory',
      fix: 'restore with --root /',
      options: ['--root', '/'],
    }),
  },
  {
    action: 'restore',
    re: /Can't restore sub-task in NS \(cflags ([0-9a-f]+)\)/,
    explain: () => ({
      cause: 'a process below the root ran in a namespace of its own (mount or network), which CRIU 4.2 dumps but cannot restore',
      fix: 'no option fixes this checkpoint; start the whole tree in that namespace and dump again',
    }),
  },
  {
    action: 'dump',
    re: /Task (\d+) with SysVIPC shmem map @\S+ doesn't live in IPC ns/,
    explain: (m) => ({
      cause: `process ${m[1]} has SysV shared memory attached, and CRIU saves SysV IPC only for a tree in its own IPC namespace`,
      fix: 'start the tree in its own IPC namespace: `cryo run --ipc -- CMD`; no option fixes this',
    }),
  },
  {
    action: 'restore',
    re: /Can't bind inet socket \(id \d+\): Address already in use/,
    explain: () => ({
      cause: 'a port the tree was listening on is taken by another process now',
      fix: 'free the port before restoring (`ss -ltnp` shows who holds it)',
    }),
  },
  {
    action: 'restore',
    re: /Can't open file (\S+) on restore: No such file or directory/,
    explain: (m) => {
      const path = m[1].startsWith('/') ? m[1] : `/${m[1]}`;
      return {
        cause: `a file the tree had open (${path}) does not exist any more`,
        fix: `put the file back at ${path} before restoring`,
      };
    },
  },
  {
    action: 'restore',
    re: /Can't fork for (\d+): File exists/,
    explain: (m) => ({
      cause: `pid ${m[1]} is taken (the original process still runs, or has not been reaped yet)`,
      fix: 'end the original tree (and wait for it to be reaped) before restoring, or restore into a new pid namespace',
    }),
  },
  {
    action: 'restore',
    re: /Can't restore file lock|Failed to restore file lock/,
    explain: () => ({
      cause: 'a file lock of the images could not be taken again (the file changed or someone else holds the lock)',
      fix: 'make sure the locked file exists unchanged and nobody holds the lock',
    }),
  },
  {
    action: 'dump',
    // verified: prlimit on a task of another uid needs CAP_SYS_RESOURCE, which root lacks here
    re: /Can't get rlimit \d+: Operation not permitted/,
    explain: () => ({
      cause: 'a process of the tree runs as another user, and cryo lacks CAP_SYS_RESOURCE, without which CRIU cannot read its limits',
      fix: 'run cryo with CAP_SYS_RESOURCE (outside a container that drops it); `cryo check` lists the missing capabilities',
    }),
  },
  ...errnoRules(false),
];

/** Checked before every other rule: a full disk or an exhausted system explains what CRIU logs after it. */
const RESOURCE_RULES = errnoRules(true);

/** Never the cause: CRIU logs it on every run here. */
const NOISE = /rlimit: Can't setup RLIMIT_NOFILE|Dumping FAILED|Restoring FAILED|Dump files \(pid: \d+\) failed|Dump mappings \(pid: \d+\) failed|Unable to open fd=\d+ id=|Unable to detach from \d+|Message reply from daemon is trimmed/;

/**
 * The cause of a failed CRIU dump or restore in plain words, with a fix where one is known.
 * Returns undefined when neither the log nor the RPC answer says anything.
 */
export function explainFailure(input: ExplainInput): Explanation | undefined {
  const lines = input.log.split('\n');
  if (input.crErrmsg) lines.push(input.crErrmsg);
  // a full disk, a read-only or exhausted system is the cause of whatever CRIU logs after it
  for (const rule of RESOURCE_RULES) {
    for (const line of lines) {
      if (NOISE.test(line)) continue;
      const m = line.match(rule.re);
      if (m) return { ...rule.explain(m, input.log, input), line: line.trim() };
    }
  }
  for (const rule of RULES) {
    if (rule.action && rule.action !== input.action) continue;
    for (const line of lines) {
      const m = line.match(rule.re);
      if (m) return { ...rule.explain(m, input.log, input), line: line.trim() };
    }
  }
  const first = lines.find((l) => /\bError\b/.test(l) && !NOISE.test(l));
  if (first) return { cause: `CRIU: ${stripLogPrefix(first)}`, line: first.trim() };
  if (input.crErrmsg && input.crErrmsg.trim() && !NOISE.test(input.crErrmsg)) return { cause: `CRIU: ${stripLogPrefix(input.crErrmsg)}` };
  if (input.crErrno) {
    const name = ERRNO_NAMES[input.crErrno] ?? `errno ${input.crErrno}`;
    return { cause: `CRIU failed with ${name}` };
  }
  return undefined;
}

/** "(00.050649) Error (criu/sk-unix.c:881): unix: Can't ..." -> "unix: Can't ..." */
export function stripLogPrefix(line: string): string {
  return line
    .replace(/^\s*(?:pie: \d+: )?(?:\(\d+\.\d+\)\s*)?(?:\d+: )?(?:Error|Warn)\s*\([^)]*\):\s*/, '')
    .trim();
}

function roundUpMiB(bytes: number): number {
  const mib = 1 << 20;
  return Math.ceil((bytes + 1) / mib) * mib;
}

/**
 * A unix socket of the tree connected to a peer outside it. CRIU's hint (--ext-unix-sk) does not
 * dump a stream socket; naming the tree's own socket as external does: --external unix[INO].
 * For a datagram socket, --ext-unix-sk is the fix.
 */
function explainExternalUnix(log: string): Omit<Explanation, 'line'> {
  const LINE = /(Runaway socket|Ext stream not supported|Dumping extern): ino (\d+) peer_ino (\d+) family\s+\d+ type\s+(\d+)[^\n]*?(?: name (\S+))?$/gm;
  const all = [...log.matchAll(LINE)];
  const stream = all.filter((m) => m[1] !== 'Dumping extern' && m[4] !== '2').pop();
  if (stream) {
    const [, , outerIno, ino, type, name] = stream;
    const where = name ? ` (${name})` : ` (socket ${outerIno})`;
    return {
      cause: `a unix ${type === '5' ? 'seqpacket' : 'stream'} socket of the tree (inode ${ino}) is connected to a server outside the tree${where}`,
      fix: `mark it external: --external unix[${ino}] (restore then needs --ext-unix-sk with the server listening)`,
      options: ['--external', `unix[${ino}]`],
    };
  }
  const dgram = all.filter((m) => m[4] === '2').pop();
  if (dgram) {
    const name = dgram[5];
    return {
      cause: `a unix datagram socket of the tree is connected to a socket outside the tree${name ? ` (${name})` : ''}`,
      fix: 'dump with --ext-unix-sk',
      options: ['--ext-unix-sk'],
    };
  }
  return {
    cause: 'a unix socket of the tree is connected to a peer outside the tree',
    fix: 'name it as external: --external unix[INO] (INO: the socket inode in the tree; see `cryo check --pid PID`)',
  };
}

/** Why CRIU could not attach to `pid`: a kernel thread, the host's init, a tracer, or something else. */
function explainSeize(pid: number, describeTask?: (pid: number) => TaskFacts | undefined): Omit<Explanation, 'line'> {
  const t = describeTask?.(pid);
  if (t?.kernelThread) {
    return { cause: `task ${pid} is a kernel thread: it has no user-space memory or files, and CRIU checkpoints only user processes`, fix: 'give the pid of a user process (ps -o pid,comm --ppid 2 lists kernel threads)' };
  }
  if (t?.init || pid === 1) {
    return { cause: `pid ${pid} is the system's init: the kernel does not let CRIU attach to it, and it is the parent of every process`, fix: 'checkpoint a tree below it (start the service with `cryo run` or setsid)' };
  }
  if (t && t.tracerPid === 0) {
    return { cause: `CRIU was not allowed to attach to task ${pid} (ptrace: Operation not permitted), though no debugger traces it`, fix: 'run `cryo check`: a missing capability, a Yama ptrace_scope of 3 or a security module can forbid it' };
  }
  const by = t ? `pid ${t.tracerPid}` : 'another process (a debugger, strace)';
  return { cause: `task ${pid} is traced by ${by}, so CRIU cannot attach to it`, fix: `detach the tracer first (see TracerPid in /proc/${pid}/status)` };
}

/**
 * A system call failed for a reason outside the tree (disk full, read-only, permissions, limits):
 * the first line naming one is the cause; the lines CRIU logs after it are consequences.
 */
function errnoRules(resource: boolean): Rule[] {
  const where = (a: CriuAction): string => (a === 'dump' ? 'the checkpoint\'s filesystem' : "the restore's work directory or the filesystem of a restored file");
  const causes: { re: RegExp; resource?: boolean; explain: (m: RegExpMatchArray, a: CriuAction) => Omit<Explanation, 'line'> }[] = [
    { re: /No space left on device/, resource: true, explain: (_m, a) => ({ cause: `no space left on ${where(a)} (ENOSPC)`, fix: a === 'dump' ? 'free space there or dump elsewhere: the images need about the tree\'s resident memory (`cryo check --pid PID` lists the tree)' : 'free space there' }) },
    { re: /Disk quota exceeded/, resource: true, explain: (_m, a) => ({ cause: `the disk quota on ${where(a)} is exceeded (EDQUOT)`, fix: 'free space or raise the quota' }) },
    { re: /Read-only file system/, resource: true, explain: (_m, a) => ({ cause: `${where(a)} is read-only (EROFS)`, fix: a === 'dump' ? 'dump to a writable directory' : 'restore with a writable work directory (-W DIR)' }) },
    { re: /Permission denied/, explain: (m, a) => ({ cause: `permission denied (EACCES)${a === 'dump' ? ' writing the checkpoint or reading a file of the tree' : ' opening a file of the images or the work directory'}: ${stripLogPrefix(m.input ?? '')}`, fix: 'check the modes and the security module (AppArmor, SELinux) of the path in the log line' }) },
    { re: /Too many open files/, resource: true, explain: () => ({ cause: 'CRIU ran out of file descriptors (EMFILE)', fix: 'raise the open-file limit (ulimit -n) before running cryo' }) },
    { re: /Cannot allocate memory/, resource: true, explain: () => ({ cause: 'the system ran out of memory for CRIU (ENOMEM)', fix: 'free memory (or raise the cgroup memory limit) and retry' }) },
    { re: /Input\/output error/, resource: true, explain: () => ({ cause: 'an I/O error on a disk CRIU read or wrote (EIO)', fix: "check the disk (dmesg) and retry on another filesystem" }) },
  ];
  return causes.filter((c) => Boolean(c.resource) === resource).map((c) => ({ re: c.re, explain: (m, _log, input) => c.explain(m, input.action) }));
}
