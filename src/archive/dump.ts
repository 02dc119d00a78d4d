// dumpToArchive: the tree is frozen only while CRIU copies its memory into a RAM staging dir
// (CRIU's leave_stopped keeps it stopped afterwards); the archive is then compressed and written,
// fsync'ed and renamed; only then is the tree ended (or, with leaveRunning, it was resumed by CRIU
// right after the copy). Any failure or interruption before that resumes the tree.
import { accessSync, constants, copyFileSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CryoError, isCryoError } from '../errors.js';
import type { DumpOptions } from '../criu/dump.js';
import type { ArchiveManifest, ArchiveProcess } from './format.js';
import { createStaging, stagingRootFor } from './staging.js';
import { readDumpStats, readPstree } from './tree.js';
import { innermostPid, listTree, readCmdline, resolveDumpTarget, signalTree, treeMemoryBytes } from '../kernel/process.js';
import { interrupted, writeArchive, type ArchiveOutput, type WriteArchiveOptions } from './write.js';

export interface DumpToArchiveOptions extends Omit<DumpOptions, 'leaveStopped' | 'force' | 'signal'>, WriteArchiveOptions {
  /** replace an existing archive file; default false (refuse before anything is dumped) */
  force?: boolean;
}

export interface DumpToArchiveResult {
  pid: number;
  /** the root CRIU dumped */
  rootPid: number;
  /** archive path, or '-' */
  archive: string;
  /** archive size, bytes */
  bytes: number;
  /** image bytes before compression */
  rawBytes: number;
  /** CRIU's frozen time (the tree's downtime inside CRIU), ms */
  frozenMs?: number;
  /** CRIU's dump statistics, µs */
  stats?: ArchiveManifest['stats'];
  /** the CRIU phase (tree stopped), ms */
  dumpMs: number;
  /** compressing and writing the archive, ms */
  writeMs: number;
  /** what happened to the tree */
  tree: 'ended' | 'running';
  /** host pids of the tree */
  pids: number[];
  manifest: ArchiveManifest;
}

function describeTree(images: ArchiveProcess[], hostPids: number[]): ArchiveProcess[] {
  const byNsPid = new Map<number, number>();
  for (const h of hostPids) {
    const ns = innermostPid(h);
    if (ns !== undefined) byNsPid.set(ns, h);
  }
  return images.map((p) => {
    const host = byNsPid.get(p.pid);
    const cmdline = host === undefined ? undefined : readCmdline(host);
    return { ...p, ...(cmdline ? { cmdline } : {}) };
  });
}

function keepLog(e: unknown, imagesDir: string): unknown {
  // dump() leaves CRIU's log next to the images dir, inside the staging dir that is about to go
  const log = `${imagesDir}.dump-failed.log`;
  if (!isCryoError(e) || !existsSync(log)) return e;
  const kept = join(os.tmpdir(), `cryo-dump-failed-${process.pid}-${Date.now()}.log`);
  try {
    copyFileSync(log, kept);
  } catch {
    return e;
  }
  return new CryoError(e.code, e.message, { hint: e.hint?.replace(log, kept), cause: e.cause, details: { ...e.details, logPath: kept }, exitCode: e.exitCode });
}

/**
 * Checkpoints the tree of `pid` into one archive (`out`: a path, '-' for stdout, or a stream).
 * The tree is never ended before the archive is complete and fsync'ed.
 */
export async function dumpToArchive(pid: number, out: ArchiveOutput, opts: DumpToArchiveOptions = {}): Promise<DumpToArchiveResult> {
  checkOutput(out, opts);
  const { dump } = await import('../criu/dump.js');
  const staging = await createStaging('dump', stagingRootFor(treeMemory(pid, opts)));
  const imagesDir = join(staging.dir, 'images');
  const leaveRunning = Boolean(opts.leaveRunning);
  let pids: number[] = [];
  try {
    const t0 = performance.now();
    let d;
    try {
      // no abort signal here: CRIU finishes its short copy, then we resume the tree below
      const { signal: _signal, force: _force, ...dumpOpts } = opts;
      d = await dump(pid, imagesDir, { ...dumpOpts, leaveRunning, leaveStopped: !leaveRunning });
    } catch (e) {
      throw keepLog(e, imagesDir);
    }
    const dumpMs = performance.now() - t0;
    pids = listTree(d.rootPid);
    try {
      if (opts.signal?.aborted) throw interrupted();
      const stats = await readDumpStats(join(imagesDir, 'stats-dump'));
      let tree: ArchiveProcess[] = [];
      try {
        tree = describeTree(await readPstree(join(imagesDir, 'pstree.img')), pids);
      } catch {
        // the manifest then has no tree; the images are what counts
      }
      const { findCriu } = await import('../criu/find.js');
      const t1 = performance.now();
      const w = await writeArchive(imagesDir, out, {
        criuVersion: findCriu({ criu: opts.criu }).version,
        tree,
        stats,
        dumpOptions: dumpOptionsOf(opts),
      }, opts);
      const writeMs = performance.now() - t1;
      if (!leaveRunning) signalTree(pids, 'SIGKILL');
      return {
        pid: d.pid,
        rootPid: d.rootPid,
        archive: w.path,
        bytes: w.bytes,
        rawBytes: w.rawBytes,
        frozenMs: stats?.frozenTimeUs === undefined ? undefined : stats.frozenTimeUs / 1000,
        stats,
        dumpMs: Math.round(dumpMs * 10) / 10,
        writeMs: Math.round(writeMs * 10) / 10,
        tree: leaveRunning ? 'running' : 'ended',
        pids,
        manifest: w.manifest,
      };
    } catch (e) {
      // nothing was written: give the tree back
      if (!leaveRunning) signalTree(pids, 'SIGCONT');
      if (isCryoError(e)) {
        throw new CryoError(e.code, e.message, {
          hint: `${e.hint ? `${e.hint}; ` : ''}the process tree was resumed, nothing was lost`,
          cause: e.cause ?? e,
          details: { ...e.details, resumed: pids },
          exitCode: e.exitCode,
        });
      }
      throw e;
    }
  } finally {
    await staging.remove();
  }
}

/** Resident memory of the tree (an upper bound for its page images), bytes. */
function treeMemory(pid: number, opts: DumpToArchiveOptions): number {
  let root = pid;
  try {
    if (!opts.noPidnsRoot) root = resolveDumpTarget(pid).rootPid;
  } catch {
    // dump() reports a missing process
  }
  return treeMemoryBytes(root);
}

/** Refuses an output that cannot work before the tree is touched. */
function checkOutput(out: ArchiveOutput, opts: DumpToArchiveOptions): void {
  if (out === '-') {
    if (process.stdout.isTTY) {
      throw new CryoError('USAGE', 'refusing to write an archive to a terminal', { hint: 'redirect stdout (cryo dump PID -o - > app.ckpt) or pipe it' });
    }
    return;
  }
  if (typeof out !== 'string') return;
  const path = resolve(out);
  if (existsSync(path)) {
    if (statSync(path).isDirectory()) throw new CryoError('EXISTS', `${path} is a directory`, { hint: 'pass a file path to -o (or use -D DIR for a checkpoint directory)' });
    if (!opts.force) throw new CryoError('EXISTS', `${path} already exists`, { hint: 'pass --force to replace it, or write to another file' });
  }
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (e) {
    throw new CryoError('FAILED', `cannot write into ${dirname(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'pass a path in an existing, writable directory to -o', cause: e,
    });
  }
}

function dumpOptionsOf(o: DumpToArchiveOptions): Record<string, unknown> {
  const keep = ['tcpEstablished', 'extUnixSk', 'shellJob', 'fileLocks', 'external', 'manageCgroups', 'linkRemap', 'ghostLimit', 'leaveRunning', 'networkLock'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keep) if (o[k] !== undefined && o[k] !== false) out[k] = o[k];
  return out;
}
