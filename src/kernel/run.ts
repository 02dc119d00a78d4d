// Starts a process tree ready to be checkpointed: detached, its own session, stdio on /dev/null or a
// log file, no inherited descriptors, and (by default) in a fresh PID namespace under a tiny init.
import { spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { constants as osConstants } from 'node:os';
import { CryoError } from '../errors.js';

export interface RunOptions {
  /** working directory of the command; default: the caller's */
  cwd?: string;
  /** extra environment variables, merged over `baseEnv` */
  env?: Record<string, string>;
  /** the environment to start from; default process.env */
  baseEnv?: NodeJS.ProcessEnv;
  /** file that receives stdout and stderr (appended, created 0644); default /dev/null */
  log?: string;
  /** the caller's open fds to give the tree as stdout and stderr (a pipe it reads, say); instead of `log` */
  stdio?: { stdout: number; stderr: number };
  /**
   * start the command in a new PID namespace under cryo's init, so that restores never collide with
   * taken pids; default true (needs root). false: the command itself is the session leader.
   */
  pidns?: boolean;
  /** called once with the tree's exit status (128+n for a signal) when it ends (pidns only: the init's status) */
  onExit?: (status: number) => void;
  /** extra namespaces of the tree's own (with pidns): its init and every process in them, so CRIU dumps them as the tree's */
  namespaces?: ('ipc' | 'uts')[];
  /** give the tree a mount namespace with its own /proc (its pids match /proc); needs pidns */
  ownProc?: boolean;
  /** how long to wait for the command's pid to appear, ms; default 5000 */
  timeoutMs?: number;
}

export interface RunResult {
  /** host pid of the command (what `cryo dump` takes) */
  pid: number;
  /** host pid of the tree's root: cryo's init (PID 1 of the namespace) with pidns, else `pid` */
  rootPid: number;
  pidns: boolean;
}

/** argv[0] of cryo's init: how `cryo dump` recognises a tree started by `cryo run`. */
export const INIT_NAME = 'cryo-init';

// Closes every inherited descriptor above 2 (bash: dash cannot name fds above 9).
const CLOSE_FDS = 'for f in /proc/self/fd/*; do n=${f##*/}; [ "$n" -gt 2 ] 2>/dev/null && eval "exec $n>&-"; done';

// PID 1 of the namespace: forwards the usual signals to the command, reaps orphans, exits with the
// command's status. $1 is the command prefix (`env --default-signal` undoes the SIG_IGN of INT/QUIT
// that background jobs get; `setsid` makes the command a session leader), or "-".
// unshare's own stdio is not the tree's (util-linux 2.38's unshare prints "sigprocmask unblock failed" when
// its child is killed, as every dump does): the init takes stdout from fd 3, stderr from fd 4.
const INIT_SCRIPT = [
  'exec 1>&3 2>&4 3>&- 4>&-',
  CLOSE_FDS,
  'c=',
  'for s in TERM INT HUP QUIT USR1 USR2 WINCH; do trap "[ -n \\"\\$c\\" ] && kill -$s \\$c 2>/dev/null" $s; done',
  'd=$1; shift; [ "$d" = - ] && d=',
  '$d "$@" & c=$!',
  'while :; do wait $c; s=$?; kill -0 $c 2>/dev/null || exit $s; done',
].join('\n');

// --own-proc: the init runs in a mount namespace of its own (unshare --mount-proc: private propagation, a
// /proc of the tree's pid namespace). Descriptors opened outside it name mounts CRIU cannot find there
// ("Can't lookup mount"), so stdio is reopened by path inside ($CRYO_RUN_LOG, else /dev/null); nsfs bind
// mounts (ip netns) are dropped from the copy, as CRIU cannot dump them ("doesn't have a proper root mount");
// /dev/shm is the tree's own.
const OWN_PROC_PREAMBLE = [
  'l=${CRYO_RUN_LOG:-/dev/null}; unset CRYO_RUN_LOG',
  'exec </dev/null >>"$l" 2>&1 3>&- 4>&-',
  'while IFS= read -r m; do t=${m#* - }; t=${t%% *}; [ "$t" = nsfs ] || continue; p=${m#* * * * }; umount -l "${p%% *}" 2>/dev/null; done < /proc/self/mountinfo',
  // the host's /dev/shm changes under every dump (CRIU then fails copying it) and would carry other
  // processes' shared memory into the checkpoint: the tree gets an empty one of its own (restored as a copy anyway)
  'for i in 1 2 3 4 5 6 7 8; do umount -l /dev/shm 2>/dev/null || break; done',
  'mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm 2>/dev/null',
  // the init proper starts only now: its first child is the command, never an umount
  'exec "$@"',
].join('\n');
const OWN_PROC_INIT_SCRIPT = INIT_SCRIPT.replace('exec 1>&3 2>&4 3>&- 4>&-', ':');

/** argv[3] of a process: INIT_NAME once the init proper runs (`bash -c SCRIPT cryo-init ...`). */
function isInitProper(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[3] === INIT_NAME;
  } catch {
    return false;
  }
}

const PLAIN_SCRIPT = `${CLOSE_FDS}\nexec "$@"`;

function which(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      if (statSync(p).isFile()) return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

let commandPrefix: string | undefined;
/**
 * What the init puts before the command: `env --default-signal` (where coreutils has it) and
 * `setsid`, so the command is the leader of a session of its own and keeps its pid.
 */
function initCommandPrefix(): string {
  if (commandPrefix === undefined) {
    const parts: string[] = [];
    const env = which('env', { PATH: '/usr/bin:/bin' });
    if (env && !/\s/.test(env) && spawnSync(env, ['--default-signal=INT', 'true'], { stdio: 'ignore' }).status === 0) parts.push(`${env} --default-signal`);
    const setsid = which('setsid', { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' });
    if (setsid && !/\s/.test(setsid)) parts.push(setsid);
    commandPrefix = parts.join(' ') || '-';
  }
  return commandPrefix;
}

/** Children of a process (/proc/PID/task/PID/children), [] when it is gone. */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Starts `cmd args` as a tree that can be checkpointed and returns its pid. The command is
 * resolved up front so that a typo fails here, not silently in the detached tree.
 */
export async function run(cmd: string, args: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
  const cwd = resolve(opts.cwd ?? process.cwd());
  try {
    if (!statSync(cwd).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CryoError('NOT_FOUND', `working directory ${cwd} does not exist`, { hint: 'pass an existing directory to --cwd' });
  }
  const env: NodeJS.ProcessEnv = { ...(opts.baseEnv ?? process.env), ...(opts.env ?? {}) };
  const resolved = cmd.includes('/') ? (isAbsolute(cmd) ? cmd : resolve(cwd, cmd)) : which(cmd, env);
  let ok = false;
  try {
    if (resolved) {
      accessSync(resolved, constants.X_OK);
      ok = statSync(resolved).isFile();
    }
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new CryoError('NOT_FOUND', `command not found or not executable: ${cmd}`, {
      hint: cmd.includes('/') ? 'check the path and its execute permission' : 'check the name, or pass its path',
    });
  }
  const bash = which('bash', { PATH: '/usr/bin:/bin:/usr/local/bin' });
  if (!bash) throw new CryoError('ENVIRONMENT', 'bash is missing', { hint: 'cryo run needs bash to start trees; install it' });
  const pidns = opts.pidns ?? true;
  if (!pidns && opts.ownProc) throw new CryoError('USAGE', '--own-proc needs the tree\'s own PID namespace', { hint: 'drop --no-pidns' });
  if (opts.ownProc && opts.stdio) throw new CryoError('USAGE', 'ownProc reopens the tree\'s stdio inside its mount namespace: it cannot take given descriptors', { hint: 'give ownProc a log file instead, or leave it out' });
  if (opts.ownProc && opts.log) env.CRYO_RUN_LOG = resolve(cwd, opts.log);
  if (!pidns && opts.namespaces?.length) throw new CryoError('USAGE', `--${opts.namespaces[0]} needs the tree's own PID namespace`, { hint: 'drop --no-pidns' });
  if (pidns && typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new CryoError('NOT_ROOT', 'cryo run needs root to start the tree in its own PID namespace', {
      hint: 'run it as root (checkpointing needs root anyway), or pass --no-pidns',
    });
  }
  const unshare = pidns ? which('unshare', { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }) : undefined;
  const setsid = pidns ? which('setsid', { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' }) : undefined;
  if (pidns && (!unshare || !setsid)) {
    throw new CryoError('ENVIRONMENT', 'unshare or setsid (util-linux) is missing: cannot start the tree in its own PID namespace', {
      hint: 'install util-linux, or start it without a PID namespace (--no-pidns)',
    });
  }
  let out: number | 'ignore' = 'ignore';
  if (opts.log) {
    try {
      out = openSync(resolve(cwd, opts.log), 'a', 0o644);
    } catch (e) {
      throw new CryoError('FAILED', `cannot open log file ${opts.log}: ${(e as Error).message}`, { hint: 'pass a writable path to --log', cause: e });
    }
  }
  const argv = pidns
    ? [unshare!, ['--pid', ...(opts.namespaces ?? []).map((k) => `--${k}`), ...(opts.ownProc ? ['--mount-proc'] : []), '--fork', setsid!, ...(opts.ownProc ? [bash, '-c', OWN_PROC_PREAMBLE, 'cryo-prep', bash, '-c', OWN_PROC_INIT_SCRIPT] : [bash, '-c', INIT_SCRIPT]), INIT_NAME, initCommandPrefix(), resolved!, ...args]]
    : [bash, ['-c', PLAIN_SCRIPT, 'cryo-run', resolved!, ...args]];
  let child;
  try {
    // pidns: the tree's output comes through fds 3 and 4; unshare's own stderr is read only while the tree starts
    if (pidns && out === 'ignore' && !opts.stdio) out = openSync('/dev/null', 'a');
    const [o1, o2] = opts.stdio ? [opts.stdio.stdout, opts.stdio.stderr] : [out, out];
    const stdio: StdioOptions = pidns ? ['ignore', 'ignore', 'pipe', o1, o2] : ['ignore', o1, o2];
    child = spawn(argv[0] as string, argv[1] as string[], { cwd, env, detached: true, stdio });
  } finally {
    if (typeof out === 'number') closeSync(out);
  }
  let startErr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (startErr.length < 4096) startErr += d;
  });
  const spawned = await new Promise<number>((res, rej) => {
    child.once('spawn', () => res(child.pid!));
    child.once('error', rej);
  }).catch((e: unknown) => {
    throw new CryoError('FAILED', `cannot start ${cmd}: ${(e as Error).message}`, { hint: 'check the command and the working directory', cause: e });
  });
  child.unref();
  if (!pidns) return { pid: spawned, rootPid: spawned, pidns: false };
  const done = <T>(r: T): T => {
    // our end of unshare's stderr closes; unshare writes there only after the tree has ended
    child.stderr?.destroy();
    return r;
  };

  // unshare forks the init; the init forks the command. Wait for both to appear.
  const deadline = Date.now() + (opts.timeoutMs ?? 5000);
  let exited: number | null | undefined;
  child.once('exit', (code, sig) => {
    exited = code ?? (sig ? 128 : 1);
    opts.onExit?.(code ?? 128 + (sig ? osConstants.signals[sig] : 0));
  });
  for (;;) {
    const init = childPids(spawned)[0];
    const pid = init === undefined || (opts.ownProc && !isInitProper(init)) ? undefined : childPids(init)[0];
    if (init !== undefined && pid !== undefined) return done({ pid, rootPid: init, pidns: true });
    if (exited !== undefined || Date.now() > deadline) {
      await new Promise((r) => setTimeout(r, 20)); // the rest of unshare's message
      const said = startErr.trim().split('\n')[0];
      const why = exited !== undefined ? `it exited at once (status ${exited}${said ? `: ${said}` : ''})` : 'its pid did not appear in time';
      done(undefined);
      throw new CryoError('FAILED', `${cmd} did not start: ${why}`, {
        hint: opts.log ? `see its output in ${opts.log}` : 'run it with --log FILE to see its output',
        details: { unsharePid: spawned, rootPid: init },
      });
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}
