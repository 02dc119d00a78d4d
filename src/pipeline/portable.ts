// Portable checkpoints (docs/portable.md): what the tree depends on, read from the live tree while
// CRIU holds it stopped (so contents match the memory state), recorded in the checkpoint's
// `dependencies`, and the chosen files carried in cryo-files.tar; before a restore, the carried
// files put back and every other dependency checked, all before CRIU runs.
import { randomBytes } from 'node:crypto';
import {
  chmodSync, chownSync, closeSync, constants, existsSync, fchmodSync, fchownSync, fsyncSync, futimesSync, lstatSync,
  mkdirSync, openSync, readdirSync, readlinkSync, renameSync, rmSync, utimesSync, type Stats,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CryoError } from '../errors.js';
import { BundleWriter, copyBundleEntry, FILES_BUNDLE, readBundle, type BundleEntry } from '../checkpoint/files-bundle.js';
import { compareDependency, hashFd, openRegular } from '../checkpoint/files-deps.js';
import { readBuildId } from '../checkpoint/files-elf.js';
import { isUnder, systemPaths } from '../checkpoint/files-system.js';
import type { CheckpointDependency, CheckpointMeta } from '../checkpoint/meta.js';
import { callCriu } from '../criu/call.js';
import type { CriuBinary } from '../criu/find.js';
import { readCwd, readFds, readMaps, statFd } from '../kernel/proc.js';

export interface PortableDumpOptions {
  /** files and directories (recursively) whose contents the checkpoint carries; repeatable */
  include?: string[];
  /** carry every file the tree depends on that is not part of the installed system */
  portable?: boolean;
  /** never carry these files, nor anything under these directories (wins over include and portable) */
  exclude?: string[];
}

export interface PortableRestoreOptions {
  /** replace files that exist here and differ from the checkpoint's copy; default false (refuse) */
  overwriteFiles?: boolean;
  /** told what putting the carried files back did (before CRIU runs) */
  onFilesPlaced?: (placed: PlacedFiles) => void;
}

type Use = CheckpointDependency['uses'][number];

/** Paths of the live filesystem that are never files a checkpoint carries (kernel views, devices). */
function isKernelView(path: string): boolean {
  return ['/proc', '/sys', '/dev'].some((p) => isUnder(path, p)) && !isUnder(path, '/dev/shm');
}

function readLinkOrUndefined(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** What the stopped tree uses, by path: open regular files, file-backed mappings, executables, cwd, root. */
function collectUses(pids: number[]): Map<string, { uses: Set<Use>; writable: boolean; kind: 'file' | 'dir' }> {
  const out = new Map<string, { uses: Set<Use>; writable: boolean; kind: 'file' | 'dir' }>();
  const add = (path: string | undefined, use: Use, kind: 'file' | 'dir', writable = false) => {
    // deleted-but-open files are CRIU's ghost files, not ours
    if (!path || !path.startsWith('/') || path.endsWith(' (deleted)') || isKernelView(path)) return;
    if (kind === 'dir' && path === '/') return;
    const e = out.get(path) ?? { uses: new Set<Use>(), writable: false, kind };
    e.uses.add(use);
    e.writable ||= writable;
    out.set(path, e);
  };
  for (const pid of pids) {
    add(readLinkOrUndefined(`/proc/${pid}/exe`), 'exe', 'file');
    add(readCwd(pid), 'cwd', 'dir');
    add(readLinkOrUndefined(`/proc/${pid}/root`), 'root', 'dir');
    for (const f of readFds(pid)) {
      const st = statFd(pid, f.fd);
      if (!st || (st.mode & constants.S_IFMT) !== constants.S_IFREG || st.nlink === 0) continue;
      add(f.target, 'fd', 'file', ((f.info?.flags ?? 0) & 3) !== constants.O_RDONLY);
    }
    for (const m of readMaps(pid)) {
      if (m.inode === 0) continue;
      add(m.path, 'map', 'file', m.perms[1] === 'w' && m.perms[3] === 's');
    }
  }
  return out;
}

/** Every directory and regular file under `root` (itself included), links and special files left out. */
function walkInclude(root: string, out: Map<string, 'file' | 'dir'>): void {
  let st: Stats;
  try {
    st = lstatSync(root);
  } catch {
    throw new CryoError('USAGE', `--include ${root}: no such file or directory`, { hint: 'pass an existing file or directory to --include' });
  }
  if (st.isFile()) out.set(root, 'file');
  else if (st.isDirectory()) {
    out.set(root, 'dir');
    for (const name of readdirSync(root).sort()) {
      const p = join(root, name);
      const s = lstatSync(p, { throwIfNoEntry: false });
      if (s?.isDirectory()) walkInclude(p, out);
      else if (s?.isFile()) out.set(p, 'file');
    }
  }
}

function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let d = dirname(path); d !== '/'; d = dirname(d)) out.push(d);
  return out;
}

const metaOf = (st: Stats) => ({ size: st.isFile() ? st.size : 0, mtimeMs: st.mtimeMs, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid });

/**
 * Reads what the stopped tree depends on and writes the files to carry into `imagesDir/cryo-files.tar`;
 * returns the checkpoint's `dependencies`, sorted by path. Call only while the tree is stopped.
 */
export function captureFiles(pids: number[], imagesDir: string, opts: PortableDumpOptions): CheckpointDependency[] {
  const uses = collectUses(pids);
  const excludes = (opts.exclude ?? []).map((p) => resolve(p));
  const explicit = new Map<string, 'file' | 'dir'>();
  for (const p of opts.include ?? []) walkInclude(resolve(p), explicit);
  const paths = [...new Set([...uses.keys(), ...explicit.keys()])].filter((p) => !isUnder(p, imagesDir)).sort();
  const system = systemPaths(paths);

  const deps: CheckpointDependency[] = [];
  const carry: Array<{ dep: CheckpointDependency; st: Stats; fd?: number }> = [];
  try {
    for (const path of paths) {
      const u = uses.get(path);
      const kind = u?.kind ?? explicit.get(path)!;
      const isSystem = system.has(path);
      const excluded = excludes.some((x) => isUnder(path, x));
      // an excluded path the tree does not use is no dependency at all
      if (excluded && !u) continue;
      const included = !excluded && (explicit.has(path) || (Boolean(opts.portable) && !isSystem && u !== undefined));
      const dep: CheckpointDependency = {
        path, kind, uses: u ? [...u.uses].sort() : [], size: 0, mtimeMs: 0, mode: 0, uid: 0, gid: 0,
        writable: u?.writable ?? false, system: isSystem, included,
      };
      if (kind === 'dir') {
        const st = lstatSync(path, { throwIfNoEntry: false });
        if (!st?.isDirectory()) continue;
        Object.assign(dep, metaOf(st));
        deps.push(dep);
        if (included) carry.push({ dep, st });
        continue;
      }
      const opened = openRegular(path);
      if (!opened) continue;
      Object.assign(dep, metaOf(opened.st));
      const id = readBuildId(opened.fd);
      if (id) dep.buildId = id;
      deps.push(dep);
      if (included) carry.push({ dep, st: opened.st, fd: opened.fd });
      else {
        // a system ELF file is named by its build-id; hashing every library of every dump costs more than it tells
        if (!(isSystem && id)) dep.sha256 = hashFd(opened.fd, opened.st.size);
        closeSync(opened.fd);
      }
    }
    if (carry.length) writeBundle(join(imagesDir, FILES_BUNDLE), carry);
  } finally {
    for (const c of carry) if (c.fd !== undefined) closeSync(c.fd);
  }
  return deps;
}

/** Directories first (parents before children, ancestors of carried files too), then files. */
function writeBundle(file: string, carry: Array<{ dep: CheckpointDependency; st: Stats; fd?: number }>): void {
  const dirs = new Map<string, Stats>();
  for (const c of carry) {
    for (const a of ancestors(c.dep.path)) if (!dirs.has(a)) dirs.set(a, lstatSync(a));
    if (c.dep.kind === 'dir') dirs.set(c.dep.path, c.st);
  }
  const w = new BundleWriter(file);
  try {
    for (const d of [...dirs.keys()].sort()) w.addDir(d, dirs.get(d)!);
    for (const c of carry) if (c.fd !== undefined) c.dep.sha256 = w.addFile(c.dep.path, c.st, c.fd);
    w.close();
  } catch (e) {
    w.discard();
    rmSync(file, { force: true });
    throw e;
  }
}

/** Asks CRIU to record this machine's CPU (cpuinfo.img) into the images; a CRIU that cannot is not fatal. */
export async function recordCpuinfo(criu: CriuBinary, imagesDir: string): Promise<void> {
  try {
    await callCriu(criu, { type: 'CPUINFO_DUMP', opts: { log_file: 'cpuinfo-dump.log' } }, { imagesDir });
    rmSync(join(imagesDir, 'cpuinfo-dump.log'), { force: true });
  } catch {
    // no cpuinfo.img: `check -i` then says the CPU cannot be compared
    rmSync(join(imagesDir, 'cpuinfo.img'), { force: true });
  }
}

/** One file that stands in the way of a restore here, or that a restore will touch. */
export interface FileProblem {
  path: string;
  /** 'missing' | 'changed' | 'conflict' (exists, differs from the carried copy) | 'changed-writable' (a finding) */
  problem: 'missing' | 'changed' | 'conflict' | 'changed-writable';
  /** plain words: "is missing", "has other contents here (sha256 differs)" */
  why: string;
  /** false for what only deserves a mention */
  blocker: boolean;
  fix: string;
}

const includeHint = (path: string) => `dump with --include ${dirname(path)} (or --portable), or copy ${path} here`;

/** Every file problem a restore of this checkpoint would meet here (none for checkpoints without dependencies). */
export function checkFiles(dir: string, meta: CheckpointMeta | undefined, opts: PortableRestoreOptions = {}): FileProblem[] {
  const out: FileProblem[] = [];
  for (const dep of meta?.dependencies ?? []) {
    const v = compareDependency(dep);
    if (v.state === 'same') continue;
    if (dep.included) {
      if (v.state === 'missing') continue;
      const why = v.state === 'changed' ? `exists here and ${v.why.replace(/^has /, 'has ')}` : v.why;
      const replaceable = v.state === 'changed';
      out.push({
        path: dep.path, problem: 'conflict', why, blocker: !(replaceable && opts.overwriteFiles),
        fix: replaceable ? 'restore with --overwrite-files to replace it with the checkpoint\'s copy, or move it away' : `move ${dep.path} away`,
      });
      continue;
    }
    if (v.state === 'missing') out.push({ path: dep.path, problem: 'missing', why: 'is missing', blocker: true, fix: includeHint(dep.path) });
    else if (v.state === 'changed' && dep.writable && !dep.buildId) {
      out.push({ path: dep.path, problem: 'changed-writable', why: `${v.why} (the tree writes it)`, blocker: false, fix: 'the restored tree sees the current contents' });
    } else out.push({ path: dep.path, problem: 'changed', why: v.why, blocker: true, fix: includeHint(dep.path) });
  }
  return out;
}

/** The error a restore stops with: one file per entry of details.files, one hint. */
export function filesRefused(problems: FileProblem[]): CryoError {
  const blockers = problems.filter((p) => p.blocker);
  const list = blockers.map((p) => `${p.path} ${p.why}`).join('; ');
  const anyConflict = blockers.some((p) => p.problem === 'conflict');
  return new CryoError('RESTORE_FAILED', `refused before CRIU ran: ${blockers.length} file${blockers.length === 1 ? '' : 's'} the tree needs ${blockers.length === 1 ? 'is' : 'are'} missing or different here: ${list}`, {
    hint: anyConflict && blockers.every((p) => p.problem === 'conflict')
      ? 'restore with --overwrite-files to replace them with the checkpoint\'s copies, or move them away'
      : `dump with --include DIR (or --portable) so the checkpoint carries them, or copy them here${anyConflict ? '; --overwrite-files replaces files that differ from the carried copies' : ''}`,
    details: { files: blockers.map(({ path, problem, why, fix }) => ({ path, problem, why, fix })) },
  });
}

/** What putting the carried files back did. */
export interface PlacedFiles {
  /** files and directories created */
  placed: string[];
  /** existing files replaced (only with overwriteFiles) */
  replaced: string[];
}

/**
 * Before CRIU: refuses (RESTORE_FAILED, every file named) when a dependency is missing or changed and
 * not carried, or a carried file exists here and differs (unless overwriteFiles); then puts the
 * carried files back with their mode, owner and mtime.
 */
export function placeFiles(dir: string, meta: CheckpointMeta | undefined, opts: PortableRestoreOptions = {}, checked?: FileProblem[]): PlacedFiles {
  const done: PlacedFiles = { placed: [], replaced: [] };
  const problems = checked ?? checkFiles(dir, meta, opts);
  if (problems.some((p) => p.blocker)) throw filesRefused(problems);
  const bundle = join(dir, FILES_BUNDLE);
  if (!existsSync(bundle)) return done;
  const carried = new Map((meta?.dependencies ?? []).filter((d) => d.included).map((d) => [d.path, d]));
  const replace = new Set(problems.filter((p) => p.problem === 'conflict').map((p) => p.path));
  const dirTimes: BundleEntry[] = [];
  for (const e of readBundle(bundle)) {
    const st = lstatSync(e.path, { throwIfNoEntry: false });
    if (e.kind === 'dir') {
      if (st) continue; // an existing directory stays as it is
      mkdirSync(e.path, { mode: 0o700 });
      chownSync(e.path, e.uid, e.gid);
      chmodSync(e.path, e.mode);
      dirTimes.push(e);
      done.placed.push(e.path);
      continue;
    }
    const dep = carried.get(e.path);
    if (st && !replace.has(e.path)) continue; // the same file is here already
    writeFileFromBundle(bundle, e, dep?.sha256);
    (st ? done.replaced : done.placed).push(e.path);
  }
  // a directory's mtime last: creating its entries changed it
  for (const e of dirTimes.reverse()) utimesSync(e.path, e.mtimeMs / 1000, e.mtimeMs / 1000);
  return done;
}

/** Writes one carried file under a random private name next to its place, then renames it there. */
function writeFileFromBundle(bundle: string, e: BundleEntry, sha256: string | undefined): void {
  const tmp = join(dirname(e.path), `.${basename(e.path)}.cryo-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    const got = copyBundleEntry(bundle, e, fd);
    if (sha256 && got !== sha256) throw new CryoError('BAD_IMAGE', `${FILES_BUNDLE}: ${e.path} does not match its sha256`, { hint: 'the checkpoint is damaged; use a complete copy or dump again' });
    fchownSync(fd, e.uid, e.gid);
    fchmodSync(fd, e.mode);
    futimesSync(fd, e.mtimeMs / 1000, e.mtimeMs / 1000);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, e.path);
}

/** Refuses, before the tree is touched, an --include or --exclude path that does not exist. */
export function checkPortableOptions(opts: PortableDumpOptions): void {
  for (const [flag, list] of [['--include', opts.include], ['--exclude', opts.exclude]] as const) {
    for (const p of list ?? []) {
      if (typeof p !== 'string' || p === '') throw new CryoError('USAGE', `expected ${flag} PATH, got ${JSON.stringify(p)}`, { hint: `${flag} /path/to/project` });
      if (flag === '--include' && !lstatSync(resolve(p), { throwIfNoEntry: false })) {
        throw new CryoError('USAGE', `--include ${p}: no such file or directory`, { hint: 'pass an existing file or directory to --include' });
      }
    }
  }
}
