// A job's checkpoint directory: archives named job-<UTC time>.ckpt (names sort as times), each with a
// small job file NAME.job.json beside it, written before the archive, that records the inodes of the
// pipes the tree wrote its stdout/stderr into (CRIU's inherit_fd names a dumped pipe by inode).
import { randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CryoError } from '../errors.js';

const NAME = /^job-\d{8}T\d{9}Z\.ckpt$/;
const SIDECAR = '.job.json';
const FAILED = '.failed';
// partial files of an interrupted run: the archive sink's temp archives and our temp job files
const PARTIAL = /^\.{1,2}job-\d{8}T\d{9}Z\.ckpt(\.job\.json|\.staged-[0-9a-f]{12})?\.(cryo|tmp)-[0-9a-f]{12}$/;

/** What a checkpoint's job file records. */
export interface JobFile {
  format: 'cryo-job';
  /** inodes of the pipes that were the tree's stdout and stderr when it was dumped */
  pipes: { stdout: number; stderr: number };
  cmd: string[];
}

export interface StoredCheckpoint {
  name: string;
  path: string;
}

/** Creates the directory (0700) if needed; refuses a path that is not a directory. */
export function openStore(dir: string): string {
  dir = resolve(dir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new CryoError('FAILED', `cannot use ${dir} as the checkpoint directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'pass --checkpoint-dir a writable directory path', cause: e,
    });
  }
  return dir;
}

/** The job's checkpoints in `dir`, newest first. */
export function listStored(dir: string): StoredCheckpoint[] {
  return readdirSync(dir).filter((n) => NAME.test(n)).sort().reverse().map((name) => ({ name, path: join(dir, name) }));
}

// a committed archive under a hidden name, waiting for its rename into the rotation
const STAGED = /^\.(job-\d{8}T\d{9}Z\.ckpt)\.staged-[0-9a-f]{12}$/;

/** A private hidden name for a new checkpoint's archive until it takes its place. */
export function stagedPath(dir: string, name: string): string {
  return join(dir, `.${name}.staged-${randomBytes(6).toString('hex')}`);
}

/**
 * Puts a staged archive in the rotation under `name`, so that the directory never holds more than
 * `keep` checkpoints: with keep >= 2 the oldest go first (keep-1 stay meanwhile), with keep 1 the old
 * one goes after (never none). Returns the names pruned.
 */
export function placeStaged(dir: string, staged: string, name: string, keep: number): string[] {
  const pruned = keep >= 2 ? pruneStored(dir, keep - 1) : [];
  renameSync(staged, join(dir, name));
  syncDir(dir);
  return [...pruned, ...pruneStored(dir, keep)];
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Tidies what an interrupted run left: a staged archive (complete: the sink renamed it there) takes
 * its place; partial archives and job files, and job files without an archive, are removed.
 */
export function removePartials(dir: string): string[] {
  const removed: string[] = [];
  for (const n of readdirSync(dir)) {
    const staged = STAGED.exec(n);
    if (staged && !existsSync(join(dir, staged[1]!))) renameSync(join(dir, n), join(dir, staged[1]!));
  }
  for (const n of readdirSync(dir)) {
    const staged = STAGED.exec(n);
    const orphan = n.endsWith(SIDECAR) && NAME.test(n.slice(0, -SIDECAR.length)) && !existsSync(join(dir, n.slice(0, -SIDECAR.length)));
    if (PARTIAL.test(n) || staged || orphan) {
      rmSync(join(dir, n), { force: true });
      removed.push(n);
    }
  }
  return removed;
}

/** A new checkpoint's name: job-YYYYMMDDTHHMMSSmmmZ.ckpt, later than every one in `dir`. */
export function nextName(dir: string, now = Date.now()): string {
  const newest = listStored(dir)[0]?.name;
  for (let t = now; ; t++) {
    const name = `job-${new Date(t).toISOString().replace(/[-:.]/g, '')}.ckpt`;
    if (!newest || name > newest) return name;
  }
}

/** Writes NAME.job.json atomically (private temp name, 0600, rename). */
export function writeJobFile(dir: string, name: string, file: JobFile): void {
  const final = join(dir, `${name}${SIDECAR}`);
  const tmp = join(dir, `.${name}${SIDECAR}.tmp-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(file)}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, final);
}

/** The job file of a checkpoint, or undefined when it is missing or unreadable. */
export function readJobFile(path: string): JobFile | undefined {
  try {
    return parseJobFile(readFileSync(`${path}${SIDECAR}`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** A job file's text checked (wherever it travelled: beside an archive, in a registry annotation); undefined when it is not one. */
export function parseJobFile(text: string): JobFile | undefined {
  try {
    const v = JSON.parse(text) as JobFile;
    return v?.format === 'cryo-job' && Number.isInteger(v.pipes?.stdout) && Number.isInteger(v.pipes?.stderr) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Removes one checkpoint and its job file. */
function removeStored(c: StoredCheckpoint): void {
  rmSync(c.path, { force: true });
  rmSync(`${c.path}${SIDECAR}`, { force: true });
}

/** Moves a checkpoint that would not restore out of the rotation (NAME.failed, kept for a look; removed when the job is done). */
export function setAside(c: StoredCheckpoint): string {
  const to = `${c.path}${FAILED}`;
  renameSync(c.path, to);
  rmSync(`${c.path}${SIDECAR}`, { force: true });
  return to;
}

/** Removes every checkpoint of the job, set-aside ones too; returns their paths. */
export function removeAllStored(dir: string): string[] {
  const gone: string[] = [];
  for (const n of readdirSync(dir)) {
    const base = n.endsWith(FAILED) ? n.slice(0, -FAILED.length) : n;
    if (!NAME.test(base)) continue;
    removeStored({ name: n, path: join(dir, n) });
    gone.push(join(dir, n));
  }
  return gone;
}

/** Keeps the newest `keep` checkpoints; returns the names removed. */
export function pruneStored(dir: string, keep: number): string[] {
  const old = listStored(dir).slice(keep);
  for (const c of old) removeStored(c);
  return old.map((c) => c.name);
}
