// Restores a checkpoint detached. Trees dumped from cryo's PID namespace come back in a fresh
// namespace (no pid can collide); bare trees get their original pids, so cryo first waits for
// zombies that still hold them (pid 1 may reap late) and names a pid held by a live process.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { callCriu, failureFromCriu, type CriuCallHooks } from './call.js';
import { classifyDir, readMeta } from './dump.js';
import { findCriu } from './find.js';
import { commonCriuOpts, type CommonCriuOptions } from './options.js';
import { findInNamespace, readProcess } from '../kernel/process.js';
import { childPids } from '../kernel/run.js';
import { readSimpleImage, readStats, type RestoreStats } from './stats.js';

export interface RestoreOptions extends CommonCriuOptions {
  /** --inherit-fd fd[N]:RES pairs: give the restored tree this process's fd N in place of RES */
  inheritFd?: Array<{ key: string; fd: number }>;
  /** for trees restored with their original pids: how long to wait for zombies holding them, ms; default 5000 */
  pidWaitMs?: number;
  /** NOTIFY hooks (pre-restore, post-restore, setup-namespaces, post-resume, ...) */
  hooks?: CriuCallHooks;
}

export interface RestoreResult {
  /** host pid of the restored process the user knows (the command under cryo's init), else the root */
  pid: number;
  /** host pid of the restored root (cryo's namespace init for trees started by `cryo run`) */
  rootPid: number;
  dir: string;
  wallMs: number;
  /** CRIU's stats-restore (µs, pages), when CRIU wrote it */
  stats?: RestoreStats;
  log: string;
  /** whether the tree was restored into a new PID namespace */
  pidns: boolean;
}

/** Checks that DIR is a complete checkpoint; throws a CryoError saying what is wrong otherwise. */
export function assertCheckpoint(dir: string): void {
  const kind = classifyDir(dir);
  const hint = 'pass the directory `cryo dump -D` wrote';
  if (kind === 'missing') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: no such directory`, { hint });
  if (kind === 'not-dir') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: not a directory`, { hint });
  if (kind === 'empty') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: the directory is empty`, { hint });
  if (kind === 'other') throw new CryoError('NOT_FOUND', `no checkpoint at ${dir}: it holds no CRIU images`, { hint });
  // cryo's temp dirs hold a finished checkpoint only once cryo.json is written (after CRIU succeeded)
  if (kind === 'incomplete' || (/\.cryo-tmp-/.test(basename(dir)) && !existsSync(join(dir, 'cryo.json')))) {
    throw new CryoError('BAD_IMAGE', `the checkpoint at ${dir} is incomplete (no inventory.img)`, {
      hint: 'the dump that wrote it did not finish; dump again',
    });
  }
}

/** Per-task image files CRIU needs; a missing one means the checkpoint is incomplete (exit 4). */
export function assertTaskImages(dir: string): void {
  const names = new Set(readdirSync(dir));
  const missing: string[] = [];
  if (!names.has('pstree.img')) missing.push('pstree.img');
  else {
    for (const e of readSimpleImage(join(dir, 'pstree.img'), 'pstree_entry')) {
      const pid = Number(e.pid);
      for (const t of [pid, ...((e.threads as number[] | undefined) ?? []).map(Number)]) if (!names.has(`core-${t}.img`)) missing.push(`core-${t}.img`);
      // zombies have neither; a live task has both
      if (names.has(`pagemap-${pid}.img`) !== names.has(`mm-${pid}.img`)) missing.push(names.has(`mm-${pid}.img`) ? `pagemap-${pid}.img` : `mm-${pid}.img`);
    }
  }
  if (missing.length) {
    throw new CryoError('BAD_IMAGE', `the checkpoint at ${dir} is incomplete: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''} missing`, {
      hint: 'the checkpoint was damaged or only partly copied; dump again',
      details: { missing },
    });
  }
}

/** Every pid and tid the checkpoint restores (pstree.img). */
export function checkpointPids(dir: string): number[] {
  const out: number[] = [];
  for (const e of readSimpleImage(join(dir, 'pstree.img'), 'pstree_entry')) {
    out.push(Number(e.pid));
    for (const t of (e.threads as number[] | undefined) ?? []) if (Number(t) !== Number(e.pid)) out.push(Number(t));
  }
  return out;
}

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

/** Restores the checkpoint in `dir`, detached; returns the restored pid. */
export async function restore(dir: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const t0 = performance.now();
  dir = resolve(dir);
  assertCheckpoint(dir);
  assertTaskImages(dir);
  const meta = readMeta(dir);
  const criu = findCriu({ criu: opts.criu });
  // Options the dump needed are needed again: take them from cryo.json unless given.
  const merged: RestoreOptions = {
    ...opts,
    tcpEstablished: opts.tcpEstablished ?? meta?.options.tcpEstablished,
    extUnixSk: opts.extUnixSk ?? meta?.options.extUnixSk,
    shellJob: opts.shellJob ?? meta?.options.shellJob,
    fileLocks: opts.fileLocks ?? meta?.options.fileLocks,
    external: opts.external ?? meta?.options.external,
    manageCgroups: opts.manageCgroups ?? (meta?.options.manageCgroups as RestoreOptions['manageCgroups']),
  };
  if (!meta?.pidns) {
    const pids = checkpointPids(dir);
    // a root with pid 1 is a PID namespace's init: CRIU recreates the namespace, nothing can collide
    if (pids[0] !== 1) await waitForPids(pids, opts.pidWaitMs ?? 5000);
  }

  const req = {
    type: 'RESTORE' as const,
    opts: {
      // without cryo.json (a bare CRIU dump) it is unknown whether the network gets locked: pick a backend
      ...commonCriuOpts(merged, 'restore.log', Boolean(merged.tcpEstablished) || !meta || meta.netns !== false),
      ...(opts.inheritFd?.length ? { inherit_fd: opts.inheritFd } : {}),
    },
  };
  let rootPid: number;
  try {
    const resp = await callCriu(criu, req, { imagesDir: dir, hooks: opts.hooks, signal: opts.signal });
    rootPid = Number(resp.restore?.pid);
  } catch (e) {
    throw failureFromCriu('restore', e, join(dir, 'restore.log'), { dir });
  }
  let pid = rootPid;
  if (meta?.pidns) {
    pid = (meta.nsPid !== undefined ? findInNamespace(rootPid, meta.nsPid) : undefined) ?? childPids(rootPid)[0] ?? rootPid;
  }
  return {
    pid,
    rootPid,
    dir,
    wallMs: Math.round((performance.now() - t0) * 10) / 10,
    stats: readStats(dir).restore,
    log: join(dir, 'restore.log'),
    pidns: Boolean(meta?.pidns),
  };
}

