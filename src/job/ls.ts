// The checkpoints in a directory (its archives) or given archive files, newest first: each one's
// time, size, the tree's command, CRIU's frozen time, and whether it is complete (its manifest
// reads) and verifiable (every record and hash checks out).
import { lstatSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { readArchiveMeta, verifyArchive } from '../checkpoint/archive-read.js';
import type { CheckpointMeta } from '../checkpoint/meta.js';
import { isArchiveFile } from '../checkpoint/source-archive.js';

export interface ListedCheckpoint {
  name: string;
  path: string;
  /** when it was committed (the manifest's createdAt; the file's mtime when the manifest is unreadable) */
  createdAt: string;
  /** the archive file's size */
  bytes: number;
  /** sum of the image files, from the manifest; null when unreadable */
  imageBytes: number | null;
  /** argv of the tree's command; null when unknown */
  command: string[] | null;
  /** CRIU's frozen_time, ms; null when unknown */
  frozenMs: number | null;
  /** the manifest reads: the archive was written completely */
  complete: boolean;
  /** every record and sha256 checks out (false when not checked: verify false) */
  verifiable: boolean;
  /** why it is not complete or not verifiable; null when it is both */
  problem: string | null;
}

export interface Listing {
  /** the directory listed; null when archives were given */
  dir: string | null;
  checkpoints: ListedCheckpoint[];
}

/** The user's command: the process cryo's init started (pidns), else the root. */
export function commandOf(meta: CheckpointMeta): string[] | null {
  const ps = meta.tree.processes;
  const p = (meta.tree.nsPid !== undefined ? ps.find((x) => x.pid === meta.tree.nsPid) : undefined) ?? (meta.tree.pidns ? ps[1] : ps[0]) ?? ps[0];
  return p?.cmdline ?? null;
}

async function describe(path: string, verify: boolean): Promise<ListedCheckpoint> {
  const st = lstatSync(path);
  const out: ListedCheckpoint = {
    name: path.slice(path.lastIndexOf('/') + 1), path, createdAt: st.mtime.toISOString(), bytes: st.size,
    imageBytes: null, command: null, frozenMs: null, complete: false, verifiable: false, problem: null,
  };
  try {
    const meta = await readArchiveMeta(path);
    Object.assign(out, {
      createdAt: meta.createdAt, imageBytes: meta.totalBytes, command: commandOf(meta), complete: true,
      frozenMs: meta.stats ? Math.round(meta.stats.frozen_time / 100) / 10 : null,
    });
  } catch (e) {
    out.problem = (e as Error).message;
    return out;
  }
  if (verify) {
    try {
      await verifyArchive(path);
      out.verifiable = true;
    } catch (e) {
      out.problem = (e as Error).message;
    }
  }
  return out;
}

/** Lists one directory's archives, or the archive files given; `verify` (default true) reads each one whole. */
export async function listCheckpoints(paths: string[], opts: { verify?: boolean } = {}): Promise<Listing> {
  const verify = opts.verify ?? true;
  let dir: string | null = null;
  let files: string[] = [];
  const one = paths.length === 1 ? resolve(paths[0]!) : undefined;
  if (one !== undefined && lstatSafe(one)?.isDirectory()) {
    dir = one;
    files = readdirSync(one).filter((n) => !n.startsWith('.')).map((n) => join(one, n)).filter((p) => lstatSafe(p)?.isFile() && (p.endsWith('.ckpt') || isArchiveFile(p)));
  } else {
    for (const p of paths.map((x) => resolve(x))) {
      const st = lstatSafe(p);
      if (!st?.isFile()) throw new CryoError('NOT_FOUND', `no such archive: ${p}`, { hint: 'pass one directory, or archive files written by cryo dump -o or cryo job' });
      files.push(p);
    }
  }
  const checkpoints: ListedCheckpoint[] = [];
  for (const f of files) checkpoints.push(await describe(f, verify));
  checkpoints.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.name.localeCompare(a.name)));
  return { dir, checkpoints };
}

function lstatSafe(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}
