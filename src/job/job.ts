// A job that survives preemption: the same call either restores the newest checkpoint in its
// directory (falling back to older ones) or starts the command; it checkpoints the running tree
// every period (leave-running, atomic archives, the newest N kept), takes a final checkpoint and
// ends the tree when its AbortSignal fires, and removes the checkpoints once the command exits by
// itself. The tree writes into pipes the job copies out; a restore hands CRIU the new pipes in place
// of the dumped ones (inherit_fd), so output keeps flowing across runs.
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import { CryoError, isCryoError } from '../errors.js';
import type { CriuDumpOptions } from '../criu/options.js';
import { isOciTarget } from '../checkpoint/oci-ref.js';
import type { OciSinkOptions } from '../checkpoint/sink-oci.js';
import { readProcess } from '../kernel/process.js';
import { run } from '../kernel/run.js';
import { restore } from '../pipeline/restore.js';
import { copyPipe } from './copy.js';
import type { JobStore } from './job-store.js';
import { closeQuietly, openPipe, type Pipe } from './pipe.js';
import { becomeSubreaper, reapIfEnded } from './reap.js';
import { DirJobStore } from './store-dir.js';
import { OciJobStore } from './store-oci.js';
import type { JobFile } from './store.js';

export interface JobOptions {
  /** where the checkpoints live: a directory (created 0700 when missing) or oci://HOST[:PORT]/REPO (a tag per checkpoint) */
  checkpointDir: string;
  /** with oci://: credentials and plain HTTP to a host that is not loopback */
  registry?: Pick<OciSinkOptions, 'creds' | 'insecure' | 'timeoutMs'>;
  /** checkpoint the running tree this long after the end of the previous one (or the start), ms; default never */
  everyMs?: number;
  /** how many checkpoints to keep, newest first; default 2 */
  keep?: number;
  /** keep the checkpoints when the command exits by itself; default false (they are removed: the job is done) */
  keepDone?: boolean;
  /** where the tree's stdout and stderr go; default discarded */
  stdout?: Writable;
  stderr?: Writable;
  /** ends the job: a final checkpoint, then the tree ends and `done` resolves with outcome 'checkpointed' */
  signal?: AbortSignal;
  /** the criu binary; default findCriu() */
  criu?: string;
  /** working directory and extra environment of a freshly started command */
  cwd?: string;
  env?: Record<string, string>;
  /** archives' zstd level; default 3 */
  level?: number;
  /** extra CRIU dump options for every checkpoint (their restore side is recorded and repeated) */
  criuOptions?: CriuDumpOptions;
  /** how often the job looks whether the tree has exited, ms; default 50 */
  pollMs?: number;
}

export interface JobCheckpoint {
  /** the archive's path, or oci://HOST/REPO:TAG */
  archive: string;
  /** archive size (in a registry: the chunk blobs' sizes) */
  bytes: number;
  imageBytes: number;
  /** CRIU's frozen_time, ms; null when CRIU wrote no stats */
  frozenMs: number | null;
  wallMs: number;
  /** the final checkpoint (the tree ended) rather than a periodic one */
  final: boolean;
  /** checkpoints removed to keep the newest N */
  pruned: string[];
}

export interface JobStarted {
  pid: number;
  rootPid: number;
  /** the archive the tree was restored from; null: the command was started fresh */
  restoredFrom: string | null;
  /** newer checkpoints that could not be restored, with why */
  skipped: Array<{ archive: string; message: string }>;
}

export type JobResult =
  | { outcome: 'exited'; status: number; pid: number; checkpoints: number; removed: string[] }
  | { outcome: 'checkpointed'; archive: string; pid: number; checkpoints: number };

export interface JobEvents {
  /** the tree runs: started fresh or restored */
  started: [JobStarted];
  restored: [JobStarted];
  checkpointed: [JobCheckpoint];
  /** the command exited by itself with this status */
  exited: [{ status: number }];
  /** something went wrong that the job survived (a periodic checkpoint failed, a restore fell back) */
  warning: [{ message: string; hint?: string }];
}

/** A running job: its events and, in `done`, its result. */
export class JobHandle extends EventEmitter<JobEvents> {
  readonly done: Promise<JobResult>;
  /** @internal use startJob() */
  constructor(body: (h: JobHandle) => Promise<JobResult>) {
    super();
    // the body starts on the next tick, once the caller has attached its listeners
    this.done = new Promise<void>((r) => setImmediate(r)).then(() => body(this));
  }
}

/** Starts (or resumes) the job `cmd args`; see JobOptions. */
export function startJob(cmd: string, args: string[], opts: JobOptions): JobHandle {
  const keep = opts.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 1) throw new CryoError('USAGE', `expected keep as a whole number of at least 1, got ${keep}`, { hint: 'keep 2 checkpoints: --keep 2' });
  if (opts.everyMs !== undefined && !(opts.everyMs > 0)) throw new CryoError('USAGE', `expected a period above 0, got ${opts.everyMs} ms`, { hint: 'e.g. --every 10m' });
  return new JobHandle((h) => runJob(h, cmd, args, { ...opts, keep }));
}

interface Tree {
  pid: number;
  rootPid: number;
  /** the tree's exit status once known */
  status?: number;
  /** the root was restored by CRIU: this process (a subreaper) reaps it */
  reaped: boolean;
}

async function runJob(h: JobHandle, cmd: string, args: string[], o: JobOptions & { keep: number }): Promise<JobResult> {
  const dir: JobStore = isOciTarget(o.checkpointDir)
    ? new OciJobStore(o.checkpointDir, o.registry ?? {}, (message, hint) => h.emit('warning', { message, hint }))
    : new DirJobStore(o.checkpointDir);
  const partials = await dir.tidy();
  if (partials.length) h.emit('warning', { message: `removed ${partials.length} partial file(s) an interrupted run left in ${dir.where}` });
  becomeSubreaper();
  const out = openPipe();
  const err = openPipe();
  const pipes = [copyPipe(out.read, o.stdout), copyPipe(err.read, o.stderr)];
  const copies = Promise.all(pipes.map((p) => p.done));
  const stop = new AbortController();
  try {
    return await superviseJob(h, cmd, args, o, dir, out, err, copies, stop.signal);
  } finally {
    // whatever happened, nothing of the job keeps this process alive
    stop.abort();
    closeQuietly(out.write);
    closeQuietly(err.write);
    for (const p of pipes) p.stop();
  }
}

async function superviseJob(
  h: JobHandle, cmd: string, args: string[], o: JobOptions & { keep: number }, dir: JobStore, out: Pipe, err: Pipe, copies: Promise<unknown>, stop: AbortSignal,
): Promise<JobResult> {
  let tree: Tree;
  try {
    tree = await startTree(h, cmd, args, o, dir, out, err);
  } finally {
    // only the tree holds the write ends now: its end is end of file
    closeQuietly(out.write);
    closeQuietly(err.write);
  }
  let checkpoints = 0;
  const checkpoint = async (final: boolean, signal?: AbortSignal): Promise<JobCheckpoint> => {
    const file: JobFile = { format: 'cryo-job', pipes: { stdout: out.inode, stderr: err.inode }, cmd: [cmd, ...args] };
    const { result: r, location: archive, pruned } = await dir.save(tree.pid, file, { ...o.criuOptions, criu: o.criu, level: o.level, leaveRunning: !final, signal }, o.keep);
    checkpoints++;
    const c: JobCheckpoint = {
      archive, bytes: 'bytes' in r ? r.bytes : 0, imageBytes: r.imageBytes,
      frozenMs: r.stats ? Math.round(r.stats.frozen_time / 100) / 10 : null, wallMs: r.wallMs, final, pruned,
    };
    h.emit('checkpointed', c);
    return c;
  };

  const exited = watchExit(tree, o.pollMs ?? 50, stop);
  const aborted = new Promise<'abort'>((r) => {
    if (o.signal?.aborted) r('abort');
    o.signal?.addEventListener('abort', () => r('abort'), { once: true });
  });
  for (;;) {
    const timer = o.everyMs === undefined ? undefined : new AbortController();
    const tick = timer ? sleep(o.everyMs!, timer.signal).then(() => 'tick' as const) : new Promise<never>(() => {});
    const what = await Promise.race([exited.then(() => 'exit' as const), aborted, tick]);
    timer?.abort();
    if (what === 'exit') break;
    if (what === 'abort') {
      if (tree.status !== undefined) break;
      let c: JobCheckpoint;
      try {
        c = await checkpoint(true);
      } catch (e) {
        if (tree.status !== undefined || !alive(tree.pid)) break; // it exited meanwhile: the job is done
        throw await finalFailed(e, tree, dir);
      }
      await reapQuietly(tree);
      await within(copies, 2000);
      return { outcome: 'checkpointed', archive: c.archive, pid: tree.pid, checkpoints };
    }
    // a periodic checkpoint; one that would overlap the signal path is cancelled by the signal
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await checkpoint(false, ac.signal);
    } catch (e) {
      if (tree.status === undefined && alive(tree.pid) && !ac.signal.aborted) {
        h.emit('warning', { message: `a periodic checkpoint failed: ${(e as Error).message}`, hint: `${isCryoError(e) && e.hint ? `${e.hint}; ` : ''}the tree runs on; the next period tries again` });
      }
    } finally {
      o.signal?.removeEventListener('abort', onAbort);
    }
  }
  // the command exited by itself: its output is copied out, the job is done
  await exited;
  await within(copies, 2000);
  const status = tree.status ?? 1;
  h.emit('exited', { status });
  const removed = o.keepDone ? [] : await dir.removeAll();
  return { outcome: 'exited', status, pid: tree.pid, checkpoints, removed };
}

/** Restores the newest checkpoint that restores (warning about each one skipped), or starts the command when there is none. */
async function startTree(h: JobHandle, cmd: string, args: string[], o: JobOptions, dir: JobStore, out: Pipe, err: Pipe): Promise<Tree> {
  const stored = await dir.list();
  if (stored.length === 0) {
    const tree: Tree = { pid: 0, rootPid: 0, reaped: false };
    const r = await run(cmd, args, { cwd: o.cwd, env: o.env, stdio: { stdout: out.write, stderr: err.write }, onExit: (s) => (tree.status ??= s) });
    Object.assign(tree, { pid: r.pid, rootPid: r.rootPid });
    h.emit('started', { pid: r.pid, rootPid: r.rootPid, restoredFrom: null, skipped: [] });
    return tree;
  }
  const skipped: JobStarted['skipped'] = [];
  for (const c of stored) {
    try {
      const { input, jobFile } = await dir.open(c);
      const r = await restore(input, { criu: o.criu, inheritFd: inheritFor(jobFile, out, err) });
      const started: JobStarted = { pid: r.pid, rootPid: r.rootPid, restoredFrom: c.path, skipped };
      h.emit('started', started);
      h.emit('restored', started);
      return { pid: r.pid, rootPid: r.rootPid, reaped: true };
    } catch (e) {
      // no CRIU, not root: no older checkpoint would fare better
      if (isCryoError(e) && e.exitCode === 3) throw e;
      const message = (e as Error).message;
      skipped.push({ archive: c.path, message });
      const older = stored.indexOf(c) < stored.length - 1;
      // a damaged one leaves the rotation, so that pruning never keeps it over a good one
      const aside = isCryoError(e) && e.exitCode === 4 ? await dir.setAside(c).catch(() => undefined) : undefined;
      const hints = [aside ?? '', older ? 'trying the next older checkpoint' : ''].filter(Boolean);
      h.emit('warning', { message: `cannot restore ${c.name}: ${message}`, hint: hints.join('; ') || undefined });
    }
  }
  throw new CryoError('RESTORE_FAILED', `none of the ${stored.length} checkpoint(s) in ${dir.where} could be restored`, {
    hint: `see the warnings above; to start the job afresh, remove the checkpoints (${dir.resetHint})`,
    details: { skipped },
  });
}

/** The dumped pipes (named by inode in the checkpoint's job file) replaced by this run's. */
function inheritFor(jf: JobFile | undefined, out: Pipe, err: Pipe): Array<{ key: string; fd: number }> {
  if (!jf) return [];
  return [{ key: `pipe:[${jf.pipes.stdout}]`, fd: out.write }, { key: `pipe:[${jf.pipes.stderr}]`, fd: err.write }];
}

function alive(pid: number): boolean {
  const p = readProcess(pid);
  return Boolean(p && p.state !== 'Z' && p.state !== 'X');
}

/** Resolves once the tree has exited by itself, with tree.status set. */
async function watchExit(tree: Tree, pollMs: number, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    if (tree.reaped) {
      const s = reapIfEnded(tree.rootPid);
      if (s !== undefined && s !== null) tree.status ??= s;
      else if (s === null && !alive(tree.rootPid)) tree.status ??= 1; // not ours to reap: the status is lost
    }
    if (tree.status !== undefined) return;
    await sleep(pollMs);
  }
}

/** After the final checkpoint ended the tree: reap a restored root (bounded). */
async function reapQuietly(tree: Tree): Promise<void> {
  if (!tree.reaped) return;
  for (let i = 0; i < 100; i++) {
    if (reapIfEnded(tree.rootPid) !== undefined) return;
    await sleep(20);
  }
}

async function finalFailed(e: unknown, tree: Tree, dir: JobStore): Promise<CryoError> {
  const newest = (await dir.list().catch(() => []))[0];
  return new CryoError('DUMP_FAILED', `the final checkpoint failed: ${(e as Error).message}`, {
    cause: e,
    hint: `the tree still runs (pid ${tree.pid}); ${newest ? `the newest checkpoint ${newest.name} is intact` : 'there is no older checkpoint'}`,
    details: { pid: tree.pid },
  });
}

/** Waits for `p`, at most `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (t = setTimeout(r, ms)))]);
  clearTimeout(t);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
