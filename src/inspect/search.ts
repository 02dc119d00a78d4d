// Search and extract dumped memory. Data is streamed from the pages files in big chunks; each
// address-contiguous stretch is searched as one stream, with an overlap carried between chunks
// so that a match across a page, run or chunk boundary is found.
import { closeSync, constants, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CryoError } from '../errors.js';
import { AddressSpace, type Vma } from './address-space.js';
import { taskId } from './explore.js';
import { FileTable } from './files.js';
import { ImageDir } from './images.js';
import { PageFiles, type Piece } from './memory.js';
import { mappingName } from './mapping-name.js';

export interface MemorySearchOptions {
  /** only this process (default: every process of the checkpoint) */
  pid?: number;
  /** exact bytes (or text, UTF-8) to find */
  text?: string | Buffer;
  /** a regular expression over the bytes (as latin1 text); a match may span at most `maxRegexMatch` bytes */
  regex?: RegExp;
  /** bytes of context on each side of a match (default 16) */
  context?: number;
  /** stop after this many matches (default: no limit) */
  maxMatches?: number;
  /** read size (default 128 KiB: small reads stay in the CPU cache for the search that follows) */
  chunkSize?: number;
  /** longest regex match that is guaranteed to be found across chunk boundaries (default 4096) */
  maxRegexMatch?: number;
}

export interface MemoryMatch {
  pid: number;
  /** address of the first matching byte */
  address: number;
  length: number;
  /** the mapping that holds the match */
  mapping: { start: number; end: number; prot: string; name: string };
  /** offset of the match inside the mapping */
  offset: number;
  /** address of `context[0]` */
  contextStart: number;
  /** the bytes around the match (zeros where not dumped) */
  context: Buffer;
  match: Buffer;
}

function protString(p: number): string {
  return `${p & 1 ? 'r' : '-'}${p & 2 ? 'w' : '-'}${p & 4 ? 'x' : '-'}`;
}

/** Pids of the checkpoint in pstree order; validates a requested pid. */
export function checkpointPids(img: ImageDir, pid?: number): number[] {
  const pids = img.entries('pstree.img').map((p) => taskId(p, 'pid'));
  if (pid === undefined) return pids;
  if (!pids.includes(pid)) {
    throw new CryoError('NOT_FOUND', `process ${pid} is not in the checkpoint ${img.dir}`, { hint: `its processes: ${pids.join(', ')}`, details: { pid, pids } });
  }
  return [pid];
}

/** CRIU's TASK_DEAD: how a dump records a zombie */
const TASK_DEAD = 2;

/** A zombie keeps its pid in the tree but has no memory images. */
function isZombie(img: ImageDir, pid: number): boolean {
  if (img.has(`mm-${pid}.img`) || !img.has(`core-${pid}.img`)) return false;
  return Number(img.first(`core-${pid}.img`).tc?.task_state) === TASK_DEAD;
}

/** Find every match; `onMatch` sees them in address order per process, as they are found. */
export function searchMemory(img: ImageDir, opts: MemorySearchOptions, onMatch?: (m: MemoryMatch) => boolean | void): MemoryMatch[] {
  if ((opts.text === undefined) === (opts.regex === undefined)) throw new CryoError('USAGE', 'give exactly one of text or regex to search for', { hint: 'pass { text } or { regex }, not both' });
  const needle = opts.text === undefined ? undefined : Buffer.isBuffer(opts.text) ? opts.text : Buffer.from(opts.text, 'utf8');
  if (needle && needle.length === 0) throw new CryoError('USAGE', 'the search text is empty', { hint: 'search for at least one byte' });
  const regex = opts.regex ? new RegExp(opts.regex.source, opts.regex.flags.includes('g') ? opts.regex.flags : `${opts.regex.flags}g`) : undefined;
  const overlap = needle ? needle.length - 1 : (opts.maxRegexMatch ?? 4096);
  const chunkSize = Math.max(opts.chunkSize ?? 128 << 10, overlap * 2 + 4096);
  const ctx = opts.context ?? 16;
  const max = opts.maxMatches ?? Infinity;
  const files = new PageFiles();
  const found: MemoryMatch[] = [];
  const buf = Buffer.allocUnsafe(chunkSize + overlap);
  const fileTable = new FileTable(img);
  let stopped = false;
  try {
    for (const pid of checkpointPids(img, opts.pid)) {
      if (isZombie(img, pid)) continue;
      const space = new AddressSpace(img, pid);
      const report = (addr: number, len: number) => {
        const vma = space.vmaAt(addr);
        const cs = Math.max(vma ? vma.start : addr, addr - ctx);
        const ce = Math.min(vma ? vma.end : addr + len, addr + len + ctx);
        const range = space.read(cs, ce - cs, files);
        const m: MemoryMatch = {
          pid, address: addr, length: len, mapping: describeVma(vma, space, fileTable, addr), offset: vma ? addr - vma.start : 0,
          contextStart: cs, context: range.data, match: range.data.subarray(addr - cs, addr - cs + len),
        };
        found.push(m);
        if (onMatch?.(m) === false) stopped = true;
      };
      for (const stretch of stretches(space.dumpedPieces())) {
        if (found.length >= max || stopped) break;
        scanStretch(stretch, files, buf, chunkSize, overlap, (addr, len) => {
          if (found.length < max && !stopped) report(addr, len);
          return found.length < max && !stopped;
        }, needle, regex);
      }
      if (found.length >= max || stopped) break;
    }
  } finally {
    files.close();
  }
  return found;
}

function describeVma(vma: Vma | undefined, space: AddressSpace, files: FileTable, addr: number): MemoryMatch['mapping'] {
  if (!vma) return { start: addr, end: addr, prot: '---', name: '(no mapping)' };
  return { start: vma.start, end: vma.end, prot: protString(Number(vma.entry.prot)), name: mappingName(vma.entry, space.mm, files) };
}

/** Group pieces into address-contiguous stretches. */
function stretches(pieces: Piece[]): Piece[][] {
  const out: Piece[][] = [];
  for (const p of pieces) {
    const cur = out[out.length - 1];
    const last = cur?.[cur.length - 1];
    if (cur && last && last.vaddr + last.len === p.vaddr) cur.push(p);
    else out.push([p]);
  }
  return out;
}

/** Stream one stretch through `buf`; `hit` returns false to stop. */
function scanStretch(
  pieces: Piece[], files: PageFiles, buf: Buffer, chunkSize: number, overlap: number,
  hit: (addr: number, len: number) => boolean, needle?: Buffer, regex?: RegExp,
): void {
  let carry = 0; // bytes kept at the front of buf from the previous chunk
  let bufAddr = pieces[0]!.vaddr; // address of buf[0]
  let pi = 0;
  let pOff = 0;
  // when a chunk has been searched, matches starting before `searchedTo` were already reported
  let reportedTo = bufAddr;
  for (;;) {
    let fill = carry;
    while (fill < carry + chunkSize && pi < pieces.length) {
      const p = pieces[pi]!;
      const n = Math.min(p.len - pOff, carry + chunkSize - fill);
      files.readPiece(p, buf, fill, pOff, n);
      fill += n;
      pOff += n;
      if (pOff === p.len) {
        pi++;
        pOff = 0;
      }
    }
    const view = buf.subarray(0, fill);
    if (needle) {
      let i = view.indexOf(needle, 0);
      while (i !== -1) {
        const addr = bufAddr + i;
        if (addr >= reportedTo && !hit(addr, needle.length)) return;
        i = view.indexOf(needle, i + 1);
      }
    } else if (regex) {
      const s = view.toString('latin1');
      regex.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = regex.exec(s)) !== null) {
        const addr = bufAddr + m.index;
        if (m[0].length === 0) regex.lastIndex++;
        else if (addr >= reportedTo && !hit(addr, m[0].length)) return;
      }
    }
    if (pi >= pieces.length) return;
    // keep the tail so a match across this boundary is seen whole in the next chunk
    const keep = Math.min(overlap, fill);
    buf.copy(buf, 0, fill - keep, fill);
    reportedTo = bufAddr + fill - keep;
    bufAddr += fill - keep;
    carry = keep;
  }
}

/** Raw bytes of [addr, addr+len) of one process, zeros where not dumped. */
export function readMemory(img: ImageDir, pid: number, addr: number, len: number): { data: Buffer; missing: Array<{ start: number; end: number }> } {
  checkpointPids(img, pid);
  const space = new AddressSpace(img, pid);
  const files = new PageFiles();
  try {
    return space.read(addr, len, files);
  } finally {
    files.close();
  }
}

/** [addr, addr+len) of one process in chunks of `step` bytes, zeros where not dumped (for streaming it out). */
export function* readMemoryChunks(img: ImageDir, pid: number, addr: number, len: number, step = 8 << 20): Generator<{ data: Buffer; missing: Array<{ start: number; end: number }> }> {
  checkpointPids(img, pid);
  const space = new AddressSpace(img, pid);
  const files = new PageFiles();
  try {
    for (let at = addr; at < addr + len; at += step) yield space.read(at, Math.min(step, addr + len - at), files);
  } finally {
    files.close();
  }
}

/** Adds `m` to a sorted list of ranges, joining it to the last one when they touch. */
export function appendRange(list: Array<{ start: number; end: number }>, m: { start: number; end: number }): void {
  const last = list[list.length - 1];
  if (last && last.end === m.start) last.end = m.end;
  else list.push({ ...m });
}

/**
 * Write [addr, addr+len) of one process to the file `out` (replaced atomically: written under a
 * random name, 0600, O_EXCL|O_NOFOLLOW, then renamed); returns bytes written and the not-dumped ranges.
 */
export function dumpMemory(img: ImageDir, pid: number, addr: number, len: number, out: string): { written: number; missing: Array<{ start: number; end: number }> } {
  // node:crypto takes milliseconds to load: only a dump to a file needs it, not every search
  const { randomBytes } = process.getBuiltinModule('node:crypto') as typeof import('node:crypto');
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.partial`);
  const missing: Array<{ start: number; end: number }> = [];
  let written = 0;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    for (const r of readMemoryChunks(img, pid, addr, len)) {
      for (const m of r.missing) appendRange(missing, m);
      let done = 0;
      while (done < r.data.length) done += writeSync(fd, r.data, done, r.data.length - done);
      written += r.data.length;
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, out);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw fsErrorFor(e, out);
  }
  return { written, missing };
}

function fsErrorFor(e: unknown, out: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof CryoError || typeof code !== 'string') return e;
  return new CryoError('FAILED', `cannot write ${out}: ${(e as Error).message}`, { cause: e, hint: 'pick a file in a directory you can write, or -o - to write to stdout', details: { file: out, errno: code } });
}
