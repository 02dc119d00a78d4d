// cryo.json: reading (untrusted: every field checked before use), writing (O_EXCL, 0600) and the
// facts every checkpoint records about where it was made.
import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CryoError } from '../errors.js';
import type { CheckpointMeta } from './meta.js';

/** The completion marker and description written last into every cryo checkpoint directory. */
export const MARKER = 'cryo.json';
const META_VERSION = 2;

let version: string | undefined;
/** cryo's own version (package.json at the package root). */
export function cryoVersion(): string {
  if (version) return version;
  try {
    // dist/src/checkpoint/meta-file.js -> package.json at the package root
    version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}

/** The machine a checkpoint is made on: what a restore elsewhere must offer. */
export function describeHost(): CheckpointMeta['host'] {
  const host: CheckpointMeta['host'] = { hostname: os.hostname(), kernel: os.release(), arch: os.arch() };
  const cpu = os.cpus()[0]?.model;
  if (cpu) host.cpu = cpu;
  try {
    const m = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) host.cpuFlags = m[1]!.trim().split(/\s+/);
  } catch {
    // no /proc/cpuinfo: nothing to record
  }
  return host;
}

function bad(where: string, what: string): CryoError {
  return new CryoError('BAD_IMAGE', `${where} is damaged: ${what}`, {
    hint: 'the checkpoint is damaged or was written by another program; use a complete copy or dump again',
    details: { file: where },
  });
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isCount = (v: unknown): v is number => isInt(v) && v >= 0;

/** A safe image file name: one path component, no dot tricks. */
export function isSafeName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\0')
    && name !== '.' && name !== '..';
}

/** Checks an untrusted value (cryo.json or an archive manifest) field by field; `where` names it in errors. */
export function checkMeta(v: unknown, where: string): CheckpointMeta {
  if (!isObj(v) || v.format !== 'cryo-checkpoint') throw bad(where, 'not a cryo checkpoint description');
  if (v.version !== META_VERSION) {
    throw new CryoError('BAD_IMAGE', `${where} has format version ${JSON.stringify(v.version)}; this cryo reads version ${META_VERSION}`, {
      hint: 'restore it with the cryo version that wrote it, or dump again', details: { file: where },
    });
  }
  if (typeof v.createdAt !== 'string') throw bad(where, 'no createdAt');
  for (const k of ['cryo', 'criu'] as const) {
    const o = v[k];
    if (!isObj(o) || typeof o.version !== 'string') throw bad(where, `no ${k}.version`);
  }
  const host = v.host;
  if (!isObj(host) || typeof host.kernel !== 'string' || typeof host.arch !== 'string' || typeof host.hostname !== 'string') throw bad(where, 'no host description');
  if (host.cpuFlags !== undefined && !(Array.isArray(host.cpuFlags) && host.cpuFlags.every((f) => typeof f === 'string'))) throw bad(where, 'host.cpuFlags is not a list of names');
  const tree = v.tree;
  if (!isObj(tree) || !isInt(tree.pid) || !isInt(tree.rootPid) || typeof tree.pidns !== 'boolean' || typeof tree.netns !== 'boolean') throw bad(where, 'no tree description');
  if (tree.nsPid !== undefined && !isInt(tree.nsPid)) throw bad(where, 'tree.nsPid is not a pid');
  if (!Array.isArray(tree.processes)) throw bad(where, 'tree.processes is not a list');
  for (const p of tree.processes as unknown[]) {
    if (!isObj(p) || !isInt(p.pid) || !isInt(p.ppid) || !isInt(p.pgid) || !isInt(p.sid) || !isCount(p.threads)) throw bad(where, 'a process entry is malformed');
    if (p.cmdline !== undefined && !(Array.isArray(p.cmdline) && p.cmdline.every((a) => typeof a === 'string'))) throw bad(where, 'a process cmdline is malformed');
  }
  if (!isObj(v.restoreOptions) || !isObj(v.dumpOptions)) throw bad(where, 'no restoreOptions/dumpOptions');
  if (v.stats !== undefined && !(isObj(v.stats) && Object.values(v.stats).every((x) => typeof x === 'number'))) throw bad(where, 'stats are malformed');
  if (v.compression !== undefined) {
    const c = v.compression;
    if (!isObj(c) || c.algorithm !== 'zstd' || !isInt(c.level)) throw bad(where, 'unknown compression');
  }
  if (v.dependencies !== undefined) checkDependencies(v.dependencies, where);
  if (!Array.isArray(v.files)) throw bad(where, 'no file list');
  const seen = new Set<string>();
  let total = 0;
  for (const f of v.files as unknown[]) {
    if (!isObj(f) || !isSafeName(f.name)) throw bad(where, `an unsafe file name: ${JSON.stringify(isObj(f) ? f.name : f)}`);
    if (f.name === MARKER) throw bad(where, `the file list names ${MARKER}`);
    if (seen.has(f.name)) throw bad(where, `${f.name} is listed twice`);
    seen.add(f.name);
    if (!isCount(f.size)) throw bad(where, `${f.name} has a bad size`);
    if (f.sha256 !== undefined && !(typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256))) throw bad(where, `${f.name} has a bad sha256`);
    total += f.size;
  }
  if (v.hashes !== undefined && typeof v.hashes !== 'boolean') throw bad(where, 'hashes is not true or false');
  if (v.hashes === true && (v.files as Array<{ sha256?: unknown }>).some((f) => f.sha256 === undefined)) throw bad(where, 'hashes is true but a file has no sha256');
  if (!isCount(v.totalBytes) || v.totalBytes !== total) throw bad(where, 'totalBytes does not match the file list');
  return v as unknown as CheckpointMeta;
}

/** An absolute, normalized path: no empty, `.` or `..` components, no NUL. */
export function isCleanAbsolutePath(p: unknown): p is string {
  if (typeof p !== 'string' || !p.startsWith('/') || p.includes('\0') || p.length > 4096) return false;
  if (p === '/') return true;
  return p.slice(1).split('/').every((c) => c !== '' && c !== '.' && c !== '..');
}

const USES = new Set(['fd', 'map', 'exe', 'cwd', 'root']);

/** The dependency list: each entry's path safe to place files at, every field of its type. */
function checkDependencies(deps: unknown, where: string): void {
  if (!Array.isArray(deps)) throw bad(where, 'dependencies is not a list');
  const seen = new Set<string>();
  for (const d of deps as unknown[]) {
    if (!isObj(d) || !isCleanAbsolutePath(d.path)) throw bad(where, `a dependency has an unsafe path: ${JSON.stringify(isObj(d) ? d.path : d)}`);
    if (seen.has(d.path)) throw bad(where, `dependency ${d.path} is listed twice`);
    seen.add(d.path);
    const ok = (d.kind === 'file' || d.kind === 'dir') && Array.isArray(d.uses) && d.uses.every((u) => USES.has(u as string))
      && isCount(d.size) && typeof d.mtimeMs === 'number' && isCount(d.mode) && isCount(d.uid) && isCount(d.gid)
      && typeof d.writable === 'boolean' && typeof d.system === 'boolean' && typeof d.included === 'boolean'
      && (d.sha256 === undefined || (typeof d.sha256 === 'string' && /^[0-9a-f]{64}$/.test(d.sha256)))
      && (d.buildId === undefined || (typeof d.buildId === 'string' && /^[0-9a-f]{2,128}$/.test(d.buildId)));
    if (!ok) throw bad(where, `dependency ${d.path} is malformed`);
  }
}

/** cryo.json of a checkpoint directory, or undefined for a bare CRIU dump (no cryo.json). */
export function readMeta(dir: string): CheckpointMeta | undefined {
  const path = join(dir, MARKER);
  let text: string;
  try {
    // O_NOFOLLOW: a planted link is not a description
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      // a FIFO or device is no description (and reading it would block)
      if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    // not damage: the checkpoint is root's (0600) and the reader is not
    if (code === 'EACCES' || code === 'EPERM') throw new CryoError(process.getuid?.() === 0 ? 'FAILED' : 'NOT_ROOT', `cannot read ${path}: permission denied`, { hint: 'checkpoints are root\'s (mode 0600): run as root', cause: e });
    throw bad(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad(path, 'not valid JSON');
  }
  return checkMeta(parsed, path);
}

/** Writes cryo.json into `dir` (which must not hold one yet), mode 0600, fsync'ed. */
export function writeMeta(dir: string, meta: CheckpointMeta): void {
  const fd = openSync(join(dir, MARKER), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    writeSync(fd, `${JSON.stringify(meta, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
