// The one restore pipeline, whatever the source: the checkpoint is opened (an archive verified and
// extracted into a private staging dir), checked complete by CRIU's rules, restored detached with
// the options its dump recorded (the caller's own win), and closed. Trees dumped from cryo's PID
// namespace come back in a fresh namespace (no pid can collide); bare trees get their original
// pids, so cryo first waits for zombies that still hold them and names a pid a live process holds.
import { closeSync, constants, existsSync, lstatSync, mkdtempSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { assertComplete } from '../checkpoint/complete.js';
import { checkDirFiles } from '../checkpoint/dir-hashes.js';
import { assertNotSwappable } from '../checkpoint/safe-path.js';
import { tempFileName } from '../checkpoint/temp-names.js';
import type { RestoreStats } from '../checkpoint/meta.js';
import { openCheckpoint, type CheckpointInput } from '../checkpoint/open.js';
import { restoredPids } from '../checkpoint/pstree.js';
import { readStats } from '../checkpoint/stats.js';
import { callCriu, failureFromCriu, openCriuSession, type CriuCallHooks, type CriuSession } from '../criu/call.js';
import { findCriu, type CriuBinary } from '../criu/find.js';
import { findInNamespace, readProcess } from '../kernel/process.js';
import { childPids } from '../kernel/run.js';
import { restoreRequestOptions, type CriuRestoreOptions } from './criu-options.js';
import { checkCpuinfo, prepareTarget } from './portable-check.js';
import type { PortableRestoreOptions } from './portable.js';
import { watchRestore } from './restore-watchdog.js';
import { elapsedMs } from './time.js';
import { tmpdir } from 'node:os';

export interface RestoreOptions extends CriuRestoreOptions, PortableRestoreOptions {
  /** the criu binary; default: findCriu() ($CRYO_CRIU, PATH, then the one `cryo setup` provisioned) */
  criu?: string;
  /** for trees restored with their original pids: how long to wait for zombies holding them, ms; default 5000 */
  pidWaitMs?: number;
  /** CRIU's NOTIFY hooks (pre-restore, post-restore, setup-namespaces, post-resume, ...) */
  hooks?: CriuCallHooks;
  /** aborts the restore: while the checkpoint is read, or CRIU's restore itself (CRIU and the half-restored tasks are killed) */
  signal?: AbortSignal;
  /** kills CRIU and the half-restored tasks when CRIU has not answered after this many ms; default 60000 */
  restoreTimeoutMs?: number;
  /** called with the image bytes read from an archive */
  onProgress?: (bytes: number, total: number) => void;
}

export type RestoreResult = {
  /** host pid of the restored process the user knows (the command under cryo's init), else the root */
  pid: number;
  /** host pid of the restored root */
  rootPid: number;
  /** the tree came back in a PID namespace of its own */
  pidns: boolean;
  wallMs: number;
  /** opening the checkpoint (an archive: read, verified, extracted) and checking it, ms */
  prepareMs: number;
  /** CRIU's part, ms */
  criuMs: number;
  imageBytes: number;
  /** CRIU's stats-restore, CRIU's names and units */
  stats: RestoreStats | null;
} & ({ dir: string } | { archive: string; bytes: number });

/** Waits (bounded) while zombies hold the pids; throws naming a pid a live process holds. */
async function waitForPids(pids: number[], waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    let zombie: number | undefined;
    for (const p of pids) {
      const info = readProcess(p);
      if (!info) continue;
      if (info.state !== 'Z' && info.state !== 'X') {
        throw new CryoError('RESTORE_FAILED', `pid ${p} is taken by a running process (${info.comm}); the checkpoint needs its original pids`, {
          hint: 'end that process, or start trees with `cryo run` so they are restored in their own PID namespace',
          details: { pid: p, comm: info.comm },
        });
      }
      zombie = p;
    }
    if (zombie === undefined) return;
    if (Date.now() > deadline) {
      throw new CryoError('RESTORE_FAILED', `pid ${zombie} is still held by an unreaped zombie after ${waitMs} ms`, {
        hint: "the zombie's parent does not reap it; end that parent, or start trees with `cryo run`",
        details: { pid: zombie },
      });
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Only the options the caller set (undefined and empty lists do not override what the dump recorded). */
function given(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  return out;
}

/** The fds a restore's inherit_fd names (CRIU gets them at the same numbers); invalid options throw later, where they always did. */
function inheritedFds(o: CriuRestoreOptions): number[] | undefined {
  try {
    return (restoreRequestOptions(o).inherit_fd as Array<{ fd: number }> | undefined)?.map((i) => i.fd);
  } catch {
    return undefined;
  }
}

/** CRIU's CPU check on the restore's own CRIU (kept open for the RESTORE); undefined without cpuinfo.img (or a CRIU). */
function startCpuCheck(criu: CriuBinary, dir: string, session: CriuSession | undefined): Promise<string | undefined> | undefined {
  if (!session || !existsSync(join(dir, 'cpuinfo.img'))) return undefined;
  const check = checkCpuinfo(criu, dir, session);
  check.catch(() => {}); // awaited by checkTarget; no unhandled rejection when a check there throws first
  return check;
}

function regularBytes(dir: string): number {
  let n = 0;
  for (const name of readdirSync(dir)) {
    const st = lstatSync(join(dir, name));
    if (st.isFile()) n += st.size;
  }
  return n;
}

/** Restores a checkpoint (a directory path or archive file, told apart by content, or an explicit source), detached. */
export async function restore(from: CheckpointInput, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const t0 = performance.now();
  const { signal, onProgress, hooks, pidWaitMs, overwriteFiles, onFilesPlaced, restoreTimeoutMs, ...criuGiven } = opts;
  restoreRequestOptions(criuGiven); // validates the caller's options before anything is read
  const criu = findCriu({ criu: opts.criu });
  if (opts.pidfile) checkPidfile(opts.pidfile);
  if (opts.workDir !== undefined && !isDirectory(opts.workDir)) {
    throw new CryoError('USAGE', `the work dir ${opts.workDir} is not a directory`, { hint: 'pass -W an existing directory (or leave it out: cryo then uses a private one)' });
  }
  const opened = await openCheckpoint(from, { signal, onProgress });
  // the caller's work dir is theirs; a private one goes unless the restore failed (its log is the story)
  const work: { dir?: string; keep: boolean } = { dir: opts.workDir, keep: opts.workDir !== undefined };
  let session: CriuSession | undefined;
  try {
    // a directory must be safe from swaps and match its cryo.json (sizes, types, sha256s) before CRIU reads it
    if (opened.kind === 'dir') assertNotSwappable(opened.dir);
    const { tree, zombies } = assertComplete(opened.dir);
    const meta = opened.meta;
    if (meta) await checkDirFiles(opened.dir, meta, { hash: opened.kind === 'dir', signal });
    if (signal?.aborted) throw new CryoError('FAILED', 'interrupted before the restore', { hint: 'nothing was restored' });
    const merged = { ...(meta?.restoreOptions ?? {}), ...given(criuGiven) } as CriuRestoreOptions;
    // one CRIU for the CPU check and the restore: the check runs on it (kept open) while the target is checked here
    session = await openCriuSession(criu, { passFds: inheritedFds(merged) }).catch(() => undefined);
    const cpuCheck = startCpuCheck(criu, opened.dir, session);
    // the target checked and the carried files put back, before CRIU runs (docs/portable.md)
    await prepareTarget(opened, { criu: opts.criu, overwriteFiles, onFilesPlaced, cpuCheck });
    // a root with pid 1 is a PID namespace's init: CRIU recreates the namespace, nothing can collide
    if (!meta?.tree.pidns && tree[0]!.pid !== 1) await waitForPids(restoredPids(tree, zombies), pidWaitMs ?? 5000);
    const prepareMs = elapsedMs(t0);
    // CRIU's log and stats go to a work dir, never into the checkpoint: a read-only checkpoint restores
    const workDir = work.dir ?? (work.dir = mkdtempSync(join(tmpdir(), 'cryo-restore-work-')));
    const logName = opts.logFile ?? 'restore.log';
    const t1 = performance.now();
    let rootPid: number;
    const timeoutMs = restoreTimeoutMs ?? 60000;
    const watchdog = watchRestore(timeoutMs, signal, session?.pid);
    let failure: unknown;
    try {
      const req = { type: 'RESTORE' as const, opts: { ...restoreRequestOptions(merged), log_file: logName } };
      const at = { imagesDir: opened.dir, workDir, hooks };
      const resp = session ? await session.call(req, at) : await callCriu(criu, req, at);
      rootPid = Number(resp.restore?.pid);
    } catch (e) {
      failure = e;
      rootPid = 0;
    } finally {
      await session?.close();
    }
    await watchdog.finish(rootPid);
    // a failed or timed-out restore keeps its log (the error names it); an interrupted one leaves nothing
    if (watchdog.fired !== 'aborted' && (watchdog.fired || failure !== undefined)) work.keep = true;
    if (watchdog.fired === 'timeout') {
      throw new CryoError('RESTORE_FAILED', `restore timed out: CRIU had not finished after ${timeoutMs} ms; CRIU and the restored tasks were killed`, {
        hint: `nothing was left running; log: ${join(workDir, logName)} (pass --restore-timeout MS for a very large checkpoint)`, cause: failure, details: { timeoutMs, logPath: join(workDir, logName) },
      });
    }
    if (watchdog.fired === 'aborted') throw new CryoError('FAILED', 'interrupted during the restore; CRIU and the restored tasks were killed', { hint: 'nothing was left running', cause: failure });
    if (failure !== undefined) throw failureFromCriu('restore', failure, join(workDir, logName), { [opened.kind === 'dir' ? 'dir' : 'archive']: opened.path });
    const criuMs = elapsedMs(t1);
    if (opts.pidfile) writePidfile(opts.pidfile, rootPid);
    let pid = rootPid;
    if (meta?.tree.pidns) pid = (meta.tree.nsPid !== undefined ? findInNamespace(rootPid, meta.tree.nsPid) : undefined) ?? childPids(rootPid)[0] ?? rootPid;
    const stats = readStats(workDir).restore ?? null;
    return {
      pid,
      rootPid,
      pidns: Boolean(meta?.tree.pidns),
      wallMs: elapsedMs(t0),
      prepareMs,
      criuMs,
      imageBytes: meta?.totalBytes ?? regularBytes(opened.dir),
      stats,
      ...(opened.kind === 'dir' ? { dir: opened.path } : { archive: opened.path, bytes: opened.bytes ?? 0 }),
    };
  } finally {
    await session?.close();
    await opened.close();
    if (work.dir && !work.keep) rmSync(work.dir, { recursive: true, force: true });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Refuses, before anything is restored, a pidfile path that cannot be written. */
function checkPidfile(path: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new CryoError('USAGE', `cannot write the pidfile ${path}: ${dir} is not a directory`, { hint: 'pass --pidfile a path in an existing directory' });
  }
}

/** The root's pid into `path`: written under a random private name, then renamed over it (links are replaced, not followed). */
function writePidfile(path: string, pid: number): void {
  const final = resolve(path);
  const tmp = tempFileName(dirname(final), basename(final));
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${pid}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
}
