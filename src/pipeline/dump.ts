// The one dump pipeline, whatever the sink: CRIU stops the tree and writes its images into the
// sink's private directory (leave_stopped), the image set is checked complete, the sink commits
// it, and only a committed checkpoint ends the tree (by pid, waiting until it is gone). A failed
// CRIU run leaves the tree running (CRIU resumes it); a failed or interrupted commit resumes it;
// cryo dying in between (even by SIGKILL) is covered by a guardian outside cryo's process that
// resumes the tree, or ends it once the checkpoint is committed. Stream dumps keep the tree
// running unless asked to end it after the write (a pipe's buffer taking the bytes is no proof that
// anyone read them). A directory's cryo.json gets its sha256s after the tree was released.
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { CryoError, isCryoError } from '../errors.js';
import { assertComplete } from '../checkpoint/complete.js';
import { addDirHashes } from '../checkpoint/dir-hashes.js';
import { listImages } from '../checkpoint/images-list.js';
import { cryoVersion, describeHost } from '../checkpoint/meta-file.js';
import type { CheckpointMeta, CheckpointProcess, DumpStats, TreeState } from '../checkpoint/meta.js';
import type { PstreeEntry } from '../checkpoint/pstree.js';
import { DirSink } from '../checkpoint/sink-dir.js';
import type { OciSinkOptions } from '../checkpoint/sink-oci.js';
import type { CheckpointSink, SinkResult } from '../checkpoint/sink.js';
import { removeStaleStaging } from '../checkpoint/staging.js';
import { readStats } from '../checkpoint/stats.js';
import { failureFromCriu, openCriuSession, type CriuCallHooks, type CriuSession } from '../criu/call.js';
import { findCriu } from '../criu/find.js';
import { parsePid } from '../criu/options.js';
import {
  innermostPid, listTree, ownNetns, readCmdline, readProcess, resolveDumpTarget, signalTree, treeMemoryBytes, waitUntilGone,
  type DumpTarget,
} from '../kernel/process.js';
import { startGuardian, type Guardian } from '../kernel/guardian.js';
import { dumpRequestOptions, recordedOptions, type CriuDumpOptions } from './criu-options.js';
import { captureFiles, checkPortableOptions, recordCpuinfo, type PortableDumpOptions } from './portable.js';
import { elapsedMs } from './time.js';

/** Where a dump goes: a directory path, or an explicit sink. */
export type DumpDestination =
  | string
  | { dir: string }
  | { archive: string }
  | { stream: Writable; name?: string }
  | ({ oci: string } & OciSinkOptions)
  | CheckpointSink;

export interface DumpOptions extends CriuDumpOptions, PortableDumpOptions {
  /** the criu binary; default: findCriu() ($CRYO_CRIU, PATH, then the one `cryo setup` provisioned) */
  criu?: string;
  /** --leave-running: the tree keeps running after the dump; default false (the tree ends) */
  leaveRunning?: boolean;
  /** CRIU's leave_stopped: the tree stays stopped after the dump (`cryo resume` resumes it); default false */
  leaveStopped?: boolean;
  /** replace an existing checkpoint (directory) or archive file; default false */
  force?: boolean;
  /** with force: also replace a directory that holds other files than a checkpoint; default false */
  forceNonCheckpoint?: boolean;
  /** archives: zstd level 1..19; default 3 */
  level?: number;
  /** dump exactly this pid, even if it runs under cryo's PID-namespace init; default false */
  noPidnsRoot?: boolean;
  /** CRIU's NOTIFY hooks (pre-dump, post-dump, network-lock, ...) */
  hooks?: CriuCallHooks;
  /**
   * Aborts what is not committed yet: before CRIU nothing happens; CRIU itself always finishes
   * (it resumes or keeps the tree), then the images are discarded and the tree resumed.
   */
  signal?: AbortSignal;
  /**
   * stream sinks: stop the tree for the dump and end it once the last byte was written to the
   * stream; default false (stream dumps leave the tree running: a pipe's buffer taking the archive
   * is no proof that a reader got it)
   */
  endAfterWrite?: boolean;
  /** directories: record a sha256 per image in cryo.json after the tree was released; default true */
  hashes?: boolean;
  /** called with the bytes written while the sink commits */
  onProgress?: (bytes: number, total: number) => void;
}

export type DumpResult = {
  /** host pid of the process named (the command, for `cryo run` trees) */
  pid: number;
  /** host pid of the root CRIU dumped */
  rootPid: number;
  /** host pids of the tree, root first, as they were at the dump */
  pids: number[];
  tree: TreeState;
  /** with tree 'stopped': a shell command that resumes the whole tree; else null */
  resume: string | null;
  wallMs: number;
  /** CRIU's part (the tree frozen and its memory copied), ms */
  criuMs: number;
  /** the sink's commit (cryo.json and rename, or the archive written), ms */
  commitMs: number;
  /** sum of the image files */
  imageBytes: number;
  /** CRIU's stats-dump, CRIU's names and units */
  stats: DumpStats | null;
} & SinkResult;

// archive, registry and stream sinks are loaded only when asked for: a directory's dump pays for none of their modules
async function sinkFor(to: DumpDestination, opts: DumpOptions): Promise<CheckpointSink> {
  if (typeof to === 'string') return new DirSink(to, opts);
  if ('commit' in to) return to;
  if ('dir' in to) return new DirSink(to.dir, opts);
  if ('archive' in to) return new (await import('../checkpoint/sink-archive.js')).ArchiveSink(to.archive, opts);
  if ('oci' in to) return new (await import('../checkpoint/sink-oci.js')).OciSink(to.oci, to);
  return new (await import('../checkpoint/sink-stream.js')).StreamSink(to.stream, { level: opts.level, name: to.name });
}

function interrupted(resumed: boolean, cause?: unknown): CryoError {
  return new CryoError('FAILED', 'interrupted; no checkpoint was written', {
    hint: resumed ? 'the tree was resumed and runs as before' : 'nothing was touched',
    cause,
  });
}

/** The dumped processes with the command lines of their host processes (read while the tree is stopped). */
function describeProcesses(tree: PstreeEntry[], hostPids: number[]): CheckpointProcess[] {
  const byNsPid = new Map<number, number>();
  for (const h of hostPids) {
    const ns = innermostPid(h);
    if (ns !== undefined) byNsPid.set(ns, h);
  }
  return tree.map((p) => {
    const host = byNsPid.get(p.pid);
    const cmdline = host === undefined ? undefined : readCmdline(host);
    const out: CheckpointProcess = { pid: p.pid, ppid: p.ppid, pgid: p.pgid, sid: p.sid, threads: Math.max(p.tids.length, 1) };
    if (cmdline) out.cmdline = cmdline;
    return out;
  });
}

/** Refuses a pid that cannot be dumped, before anything is touched. */
function targetOf(pid: number, opts: DumpOptions): DumpTarget {
  const proc = readProcess(pid);
  if (!proc || proc.state === 'Z' || proc.state === 'X') {
    throw new CryoError('NO_PROCESS', proc ? `process ${pid} has already exited (zombie)` : `no process with pid ${pid}`, {
      hint: 'check the pid with `ps`; `cryo run` prints the pid of the tree it starts',
      details: { pid },
    });
  }
  return opts.noPidnsRoot ? { pid, rootPid: pid, pidns: false } : resolveDumpTarget(pid);
}

/** Checkpoints the tree of `pid` into `to`; see DumpOptions for what happens to the tree. */
export async function dump(pid: number, to: DumpDestination, opts: DumpOptions = {}): Promise<DumpResult> {
  const t0 = performance.now();
  pid = parsePid(pid);
  if (opts.leaveRunning && opts.leaveStopped) throw new CryoError('USAGE', 'leaveRunning and leaveStopped exclude each other', { hint: 'pass one of them' });
  const target = targetOf(pid, opts);
  const netns = ownNetns(target.rootPid);
  // validates every option before the tree is touched
  const criuOpts = dumpRequestOptions(opts, netns);
  const criu = findCriu({ criu: opts.criu });
  checkPortableOptions(opts);
  const sink = await sinkFor(to, opts);
  // a stream keeps the tree running unless the caller wants it ended after the write
  if (sink.kind === 'stream' && !opts.endAfterWrite && !opts.leaveStopped) opts = { ...opts, leaveRunning: true };
  if (opts.endAfterWrite && sink.kind !== 'stream') throw new CryoError('USAGE', 'endAfterWrite is for stream dumps (-o -)', { hint: 'directories and archive files end the tree once committed' });
  if (opts.signal?.aborted) throw interrupted(false);
  removeStaleStaging();
  const { imagesDir } = await sink.prepare(treeMemoryBytes(target.rootPid));
  // this machine's CPU (cpuinfo.img) from a CRIU of its own, while the dump's CRIU starts: it writes nothing else
  const cpuinfo = recordCpuinfo(criu, imagesDir);
  const stopped = !opts.leaveRunning;
  // outside cryo: resumes the tree if cryo dies while CRIU or the commit holds it stopped
  const guardian: Guardian | undefined = stopped ? startGuardian() : undefined;
  try {
    return await dumpGuarded(target, netns, criuOpts, criu, sink, imagesDir, cpuinfo, guardian, t0, opts);
  } finally {
    await cpuinfo;
    await guardian?.release();
  }
}

async function dumpGuarded(
  target: DumpTarget, netns: boolean, criuOpts: ReturnType<typeof dumpRequestOptions>, criu: ReturnType<typeof findCriu>,
  sink: CheckpointSink, imagesDir: string, cpuinfo: Promise<void>, guardian: Guardian | undefined, t0: number, opts: DumpOptions,
): Promise<DumpResult> {
  // CRIU: the tree is stopped, its images written; CRIU resumes it itself if anything fails
  const workDir = opts.workDir ?? imagesDir;
  const logName = opts.logFile ?? 'dump.log';
  const t1 = performance.now();
  let session: CriuSession | undefined;
  try {
    session = await openCriuSession(criu);
    // listed as late as possible: a child forked before CRIU's freeze is in the list
    await guardian?.watch('resume', listTree(target.rootPid), session.pid);
    // done before the freeze: a second CRIU probing the kernel while the tree is frozen added to
    // the frozen time (1 GiB: 541-573 ms with it alongside, 530-558 ms before the DUMP)
    await cpuinfo;
    await session.call({
      type: 'DUMP',
      opts: {
        ...criuOpts,
        pid: target.rootPid,
        log_file: logName,
        ...(opts.leaveRunning ? { leave_running: true } : { leave_stopped: true }),
      },
    }, { imagesDir, workDir: opts.workDir, hooks: opts.hooks });
  } catch (e) {
    await session?.close();
    // the CPU's CRIU writes into the images dir: it is done before that dir goes
    await cpuinfo;
    const alive = readProcess(target.rootPid);
    // a Ctrl-C to the process group can end CRIU's shell before it ignores SIGINT: CRIU never ran
    if (opts.signal?.aborted && alive && !/^[ZTtX]$/.test(alive.state)) {
      await sink.abort();
      throw interrupted(false, e);
    }
    const log = opts.workDir ? join(workDir, logName) : sink.keepFailedLog(join(imagesDir, logName));
    await sink.abort();
    throw failureFromCriu('dump', e, log ?? join(imagesDir, logName), {
      pid: target.pid, rootPid: target.rootPid, running: Boolean(alive && alive.state !== 'Z'),
    });
  }
  await session.close();
  const criuMs = elapsedMs(t1);
  const pids = listTree(target.rootPid);
  const stopped = !opts.leaveRunning;
  await guardian?.watch('resume', pids);

  // commit: any failure or interruption from here until the sink has committed gives the tree back
  const t2 = performance.now();
  let placed: SinkResult;
  let meta: CheckpointMeta;
  try {
    if (opts.signal?.aborted) throw interrupted(true);
    // only a complete image set is committed (files may vanish under a dump: a removed parent dir)
    const { tree: pstree } = assertComplete(imagesDir);
    const stats = readStats(workDir).dump;
    const dependencies = captureFiles(pids, imagesDir, opts);
    await cpuinfo;
    const files = await listImages(imagesDir, { hash: sink.wantsHashes, signal: opts.signal });
    const recorded = recordedOptions(opts);
    meta = {
      format: 'cryo-checkpoint',
      version: 2,
      createdAt: new Date().toISOString(),
      cryo: { version: cryoVersion() },
      criu: { version: criu.version },
      host: describeHost(),
      tree: {
        pid: target.pid,
        rootPid: target.rootPid,
        pidns: target.pidns,
        ...(target.pidns && target.nsPid !== undefined ? { nsPid: target.nsPid } : {}),
        netns,
        processes: describeProcesses(pstree, pids),
      },
      restoreOptions: recorded.restore,
      dumpOptions: recorded.dump,
      ...(stats ? { stats } : {}),
      dependencies,
      ...(sink.kind === 'dir' ? {} : { compression: { algorithm: 'zstd' as const, level: opts.level ?? 3 } }),
      hashes: sink.wantsHashes,
      files,
      totalBytes: files.reduce((s, f) => s + f.size, 0),
    };
    placed = await sink.commit(meta, { signal: opts.signal, onProgress: opts.onProgress });
  } catch (e) {
    if (stopped) signalTree(pids, 'SIGCONT');
    await sink.abort();
    if (isCryoError(e) && e.message.startsWith('interrupted')) throw interrupted(true);
    throw resumedError(e, stopped);
  }
  const commitMs = elapsedMs(t2);

  // committed: the checkpoint exists; end the tree unless it was asked to stay
  let tree: TreeState = opts.leaveRunning ? 'running' : 'ended';
  let gone: Promise<unknown> | undefined;
  if (opts.leaveStopped) tree = 'stopped';
  else if (tree === 'ended') {
    await guardian?.watch('end', pids);
    signalTree(pids, 'SIGKILL');
    // as CRIU does: return only once they are dead (zombies at most), so a restore can start at once
    gone = waitUntilGone(pids, 5000);
  }
  // no downtime: the directory's hashes are computed once the tree was ended (while it dies) or resumed
  if ('dir' in placed && opts.hashes !== false) meta = await addDirHashes(placed.dir, meta, opts.signal).catch(() => meta);
  await gone;
  await guardian?.release();
  return {
    pid: target.pid,
    rootPid: target.rootPid,
    pids,
    tree,
    resume: tree === 'stopped' ? `cryo resume ${target.rootPid}` : null,
    wallMs: elapsedMs(t0),
    criuMs,
    commitMs,
    imageBytes: meta.totalBytes,
    stats: meta.stats ?? null,
    ...placed,
  };
}

function resumedError(e: unknown, resumed: boolean): unknown {
  if (!isCryoError(e) || !resumed) return e;
  return new CryoError(e.code, e.message, {
    hint: `${e.hint ? `${e.hint}; ` : ''}the tree was resumed, nothing was lost`,
    cause: e.cause ?? e,
    details: { ...e.details, resumed: true },
    exitCode: e.exitCode,
  });
}
