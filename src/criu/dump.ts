// Checkpoints a process tree into a directory without ever losing it: CRIU writes into a temporary
// directory next to DIR, which is renamed into place (with cryo.json, the completeness marker) only
// once the dump succeeded. When CRIU fails it resumes the tree; cryo checks that it still runs.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { commonCriuOpts, parsePid, type CommonCriuOptions } from './options.js';
import { listTree, ownNetns, readProcess, resolveDumpTarget, signalTree, waitUntilGone } from '../kernel/process.js';
import { callCriu, failureFromCriu, type CriuCallHooks } from './call.js';
import { readStats, type DumpStats } from './stats.js';
import { findCriu } from './find.js';

export interface DumpOptions extends CommonCriuOptions {
  /** --leave-running: the tree keeps running after the dump; default false (the tree ends) */
  leaveRunning?: boolean;
  /** CRIU's leave_stopped: the tree stays stopped (SIGSTOP) after the dump; default false */
  leaveStopped?: boolean;
  /** --link-remap: allow dumping open files that were unlinked (linked back on restore); default false */
  linkRemap?: boolean;
  /** --ghost-limit: largest deleted file kept in the images, bytes; default CRIU's 1 MiB */
  ghostLimit?: number;
  /** replace a checkpoint already in DIR; default false (refuse) */
  force?: boolean;
  /** dump exactly this pid, even if it runs under cryo's PID-namespace init; default false */
  noPidnsRoot?: boolean;
  /** NOTIFY hooks (pre-dump, post-dump, network-lock, ...) */
  hooks?: CriuCallHooks;
}

export interface DumpResult {
  /** the pid that was asked for */
  pid: number;
  /** the tree's root that CRIU dumped (cryo's namespace init for trees started by `cryo run`) */
  rootPid: number;
  /** absolute path of the checkpoint */
  dir: string;
  /** wall time of the whole operation, ms */
  wallMs: number;
  /** CRIU's stats-dump (µs, pages), when CRIU wrote it */
  stats?: DumpStats;
  /** CRIU's log of this dump */
  log: string;
  /** whether the tree still runs (leaveRunning/leaveStopped) */
  running: boolean;
}

/** The completeness marker and metadata file written last into every cryo checkpoint. */
export const MARKER = 'cryo.json';

export interface CheckpointMeta {
  format: 'cryo-checkpoint';
  version: 1;
  created: string;
  criu: string;
  /** the pid the user named, and the dumped root */
  pid: number;
  rootPid: number;
  /** the root is cryo's PID-namespace init; the user's command has `nsPid` inside it */
  pidns: boolean;
  /** the tree has a network namespace of its own (CRIU locks its network) */
  netns?: boolean;
  nsPid?: number;
  /** options that restore must repeat (CRIU's names) */
  options: { tcpEstablished?: boolean; extUnixSk?: boolean; shellJob?: boolean; fileLocks?: boolean; external?: string[]; manageCgroups?: boolean | string };
}

/** What DIR holds: nothing, a checkpoint (cryo's or bare CRIU's), or other files. */
export function classifyDir(dir: string): 'missing' | 'empty' | 'checkpoint' | 'incomplete' | 'other' | 'not-dir' {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return 'not-dir';
    names = readdirSync(dir);
  } catch {
    return 'missing';
  }
  if (names.length === 0) return 'empty';
  if (names.includes(MARKER) || names.includes('inventory.img')) return names.includes('inventory.img') ? 'checkpoint' : 'incomplete';
  if (names.some((n) => n.endsWith('.img'))) return 'incomplete';
  return 'other';
}

/**
 * Dumps the tree rooted at `pid` into `dir`. For a pid started by `cryo run`, the tree's PID
 * namespace is dumped from its init, so that restores never collide with taken pids.
 */
export async function dump(pid: number, dir: string, opts: DumpOptions = {}): Promise<DumpResult> {
  const t0 = performance.now();
  pid = parsePid(pid);
  dir = resolve(dir);
  if (opts.ghostLimit !== undefined && (!Number.isInteger(opts.ghostLimit) || opts.ghostLimit < 0 || opts.ghostLimit > 0xffffffff)) {
    throw new CryoError('USAGE', `expected ghostLimit as a byte count from 0 to 4294967295, got ${opts.ghostLimit}`);
  }
  const proc = readProcess(pid);
  if (!proc || proc.state === 'Z' || proc.state === 'X') {
    throw new CryoError('NO_PROCESS', proc ? `process ${pid} has already exited (zombie)` : `no process with pid ${pid}`, {
      hint: 'check the pid with `ps`; `cryo run` prints the pid of the tree it starts',
      details: { pid },
    });
  }
  const target = opts.noPidnsRoot ? { pid, rootPid: pid, pidns: false } : resolveDumpTarget(pid);

  const kind = classifyDir(dir);
  if (kind === 'not-dir') throw new CryoError('EXISTS', `${dir} exists and is not a directory`, { hint: 'pass a directory path to -D' });
  if (kind === 'other') throw new CryoError('EXISTS', `${dir} is not empty and holds no checkpoint`, { hint: 'pass an empty or new directory to -D' });
  if ((kind === 'checkpoint' || kind === 'incomplete') && !opts.force) {
    throw new CryoError('EXISTS', `${dir} already holds a checkpoint`, { hint: 'pass --force to replace it, or dump into another directory' });
  }
  const criu = findCriu({ criu: opts.criu });
  const parent = dirname(dir);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new CryoError('FAILED', `cannot create ${parent}: ${(e as Error).message}`, { hint: 'pass a writable path to -D', cause: e });
  }
  let tmp: string;
  try {
    tmp = mkdtempSync(join(parent, `.${basename(dir)}.cryo-tmp-`));
  } catch (e) {
    throw new CryoError('FAILED', `cannot write next to ${dir}: ${(e as Error).message}`, { hint: 'pass a writable path to -D', cause: e });
  }

  const netns = ownNetns(target.rootPid);
  const req = {
    type: 'DUMP' as const,
    opts: {
      pid: target.rootPid,
      ...commonCriuOpts(opts, 'dump.log', Boolean(opts.tcpEstablished) || netns),
      ...(opts.leaveRunning ? { leave_running: true } : {}),
      // a tree to be ended is left stopped and ended by cryo once the checkpoint is in place: cryo dying
      // between CRIU's answer and the marker then leaves a stopped tree (kill -CONT), never a lost one
      ...(opts.leaveRunning ? {} : { leave_stopped: true }),
      ...(opts.linkRemap ? { link_remap: true } : {}),
      ...(opts.ghostLimit !== undefined ? { ghost_limit: opts.ghostLimit } : {}),
    },
  };
  try {
    await callCriu(criu, req, { imagesDir: tmp, hooks: opts.hooks, signal: opts.signal });
  } catch (e) {
    // CRIU resumes the tree when a dump fails; keep the log where the user can read it.
    const log = `${dir}.dump-failed.log`;
    try {
      copyFileSync(join(tmp, 'dump.log'), log);
    } catch {
      /* CRIU wrote no log */
    }
    rmSync(tmp, { recursive: true, force: true });
    const alive = readProcess(target.rootPid);
    throw failureFromCriu('dump', e, log, {
      pid,
      rootPid: target.rootPid,
      running: Boolean(alive && alive.state !== 'Z'),
    });
  }

  const endTree = !leftRunning(opts);
  // the children lists CRIU itself walks (criu check requires them): every task of the stopped tree
  const treePidsNow = endTree ? listTree(target.rootPid) : [];
  const meta: CheckpointMeta = {
    format: 'cryo-checkpoint',
    version: 1,
    created: new Date().toISOString(),
    criu: criu.version,
    pid: target.pid,
    rootPid: target.rootPid,
    pidns: target.pidns,
    netns,
    ...(target.pidns && target.nsPid !== undefined ? { nsPid: target.nsPid } : {}),
    options: {
      ...(opts.tcpEstablished ? { tcpEstablished: true } : {}),
      ...(opts.extUnixSk ? { extUnixSk: true } : {}),
      ...(opts.shellJob ? { shellJob: true } : {}),
      ...(opts.fileLocks ? { fileLocks: true } : {}),
      ...(opts.external?.length ? { external: opts.external } : {}),
      ...(opts.manageCgroups ? { manageCgroups: opts.manageCgroups } : {}),
    },
  };
  try {
    writeFileSync(join(tmp, MARKER), `${JSON.stringify(meta, null, 2)}\n`);
    placeDir(tmp, dir, kind);
  } catch (e) {
    // CRIU's images are complete: keep them where they are, and give the tree back
    if (endTree) signalTree(treePidsNow, 'SIGCONT');
    throw new CryoError('FAILED', `cannot move the checkpoint into ${dir}: ${(e as Error).message}`, {
      hint: `the complete images are in ${tmp}${endTree ? ' and the tree was resumed' : ''}; restore from there or move them`,
      cause: e,
      details: { imagesDir: tmp },
    });
  }
  // the checkpoint is in place: end the tree (by pid, each of them; for cryo's trees the namespace init
  // takes the rest of its namespace with it)
  if (endTree) {
    signalTree(treePidsNow, 'SIGKILL');
    // as CRIU did: return only once they are dead (zombies at most), so a restore can start at once
    await waitUntilGone(treePidsNow, 5000);
  }
  rmSync(`${dir}.dump-failed.log`, { force: true });
  const stats = readStats(dir).dump;
  const alive = endTree ? undefined : readProcess(target.rootPid);
  return {
    pid,
    rootPid: target.rootPid,
    dir,
    wallMs: Math.round((performance.now() - t0) * 10) / 10,
    stats,
    log: join(dir, 'dump.log'),
    running: Boolean(alive && alive.state !== 'Z'),
  };
}

function leftRunning(opts: DumpOptions): boolean {
  return Boolean(opts.leaveRunning || opts.leaveStopped);
}

/** Moves the finished temp dir into place; an old checkpoint is replaced only after that succeeds. */
function placeDir(tmp: string, dir: string, kind: ReturnType<typeof classifyDir>): void {
  if (kind === 'missing') {
    renameSync(tmp, dir);
    return;
  }
  if (kind === 'empty') {
    rmdirSync(dir);
    renameSync(tmp, dir);
    return;
  }
  const old = `${tmp}-old`;
  renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

/** cryo.json of a checkpoint, or undefined for a bare CRIU dump. */
export function readMeta(dir: string): CheckpointMeta | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, MARKER), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const m = JSON.parse(text) as CheckpointMeta;
    if (m.format !== 'cryo-checkpoint') throw new Error('not a cryo checkpoint');
    return m;
  } catch (e) {
    throw new CryoError('BAD_IMAGE', `${join(dir, MARKER)} is damaged: ${(e as Error).message}`, { hint: 'the checkpoint is damaged; dump again', cause: e });
  }
}
