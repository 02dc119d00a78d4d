// A process's dumped memory, read through pagemap + pages: present pages come from this
// directory's pages file, in_parent pages from the parent checkpoint (recursively), lazy pages
// that are not present are not in the images. Anonymous shared memory comes from
// pagemap-shmem-<shmid>.img. Pages files are read with positioned reads, never loaded whole.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { CryoError } from '../errors.js';
import { ImageDir, type Entry } from './images.js';

export const PAGE_SIZE = 4096;
/** pagemap entry flags (CRIU's PE_*) */
export const PE_PARENT = 1;
export const PE_LAZY = 2;
export const PE_PRESENT = 4;
/** vma status bits (CRIU's VMA_*) */
export const VMA_AREA_REGULAR = 1 << 0;
export const VMA_AREA_STACK = 1 << 1;
export const VMA_AREA_VSYSCALL = 1 << 2;
export const VMA_AREA_VDSO = 1 << 3;
export const VMA_FILE_PRIVATE = 1 << 6;
export const VMA_FILE_SHARED = 1 << 7;
export const VMA_ANON_SHARED = 1 << 8;
export const VMA_ANON_PRIVATE = 1 << 9;
export const VMA_AREA_SYSVIPC = 1 << 10;
export const VMA_AREA_SOCKET = 1 << 11;
export const VMA_AREA_VVAR = 1 << 12;
export const VMA_AREA_MEMFD = 1 << 14;

/** Where `len` bytes at `vaddr` live: a pages file at an offset, or nowhere (not dumped). */
export interface Piece {
  vaddr: number;
  len: number;
  /** pages file path, or null when these pages are not in the images */
  file: string | null;
  offset: number;
}

interface Run {
  vaddr: number;
  end: number;
  flags: number;
  /** byte offset in the pages file when PE_PRESENT */
  offset: number;
}

/** size of a regular file, or undefined (absent, or not a file: refused when it is opened) */
function fileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v ?? 0);
}

function entryFlags(e: Entry): number {
  if (e.flags !== undefined) return Number(e.flags);
  // images older than pagemap flags: in_parent or present
  return e.in_parent ? PE_PARENT : PE_PRESENT;
}

/** Page runs of one pagemap image, in file order, with their offsets in the pages file. */
class PageMap {
  readonly runs: Run[] = [];
  readonly pagesFile: string;

  constructor(img: ImageDir, pagemapName: string) {
    const entries = img.entries(pagemapName);
    const head = entries[0];
    if (!head || head.pages_id === undefined) {
      throw new CryoError('BAD_IMAGE', `${pagemapName} in ${img.dir} has no pagemap head`, { details: { file: img.path(pagemapName) } });
    }
    this.pagesFile = img.path(`pages-${head.pages_id}.img`);
    if (!img.has(`pages-${head.pages_id}.img`) && entries.some((e, i) => i > 0 && entryFlags(e) & PE_PRESENT)) {
      throw new CryoError('BAD_IMAGE', `the checkpoint in ${img.dir} is missing pages-${head.pages_id}.img`, {
        hint: 'the dump is incomplete; dump again', details: { file: this.pagesFile },
      });
    }
    let offset = 0;
    for (let i = 1; i < entries.length; i++) {
      const e = entries[i]!;
      const nr = e.nr_pages !== undefined ? num(e.nr_pages) : num(e.compat_nr_pages);
      const vaddr = num(e.vaddr);
      const flags = entryFlags(e);
      // hostile counts and addresses stop here, before they size a read or a loop
      if (!Number.isSafeInteger(nr) || nr < 0 || !Number.isSafeInteger(vaddr) || vaddr < 0 || !Number.isSafeInteger(vaddr + nr * PAGE_SIZE) || !Number.isSafeInteger(offset + nr * PAGE_SIZE)) {
        throw new CryoError('BAD_IMAGE', `${pagemapName} in ${img.dir}: entry ${i} has an impossible range (${nr} pages at ${e.vaddr})`, {
          hint: 'the checkpoint is damaged; use a complete copy or dump again', details: { file: img.path(pagemapName), entry: i },
        });
      }
      this.runs.push({ vaddr, end: vaddr + nr * PAGE_SIZE, flags, offset: flags & PE_PRESENT ? offset : -1 });
      if (flags & PE_PRESENT) offset += nr * PAGE_SIZE;
    }
    // the pagemap may not promise more bytes than the pages file holds (a short copy, a forged count)
    const size = offset > 0 ? fileSize(this.pagesFile) : 0;
    if (size !== undefined && size < offset) {
      throw new CryoError('BAD_IMAGE', `${pagemapName} in ${img.dir} lists ${offset} bytes of pages, but pages-${head.pages_id}.img has ${size}`, {
        hint: 'the pages file is truncated or the pagemap is damaged; use a complete copy or dump again', details: { file: this.pagesFile, expected: offset, size },
      });
    }
    this.runs.sort((a, b) => a.vaddr - b.vaddr);
  }

  /** index of the first run whose end is above addr */
  firstAfter(addr: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.runs[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Dumped memory of one address space (a process, or a shared memory object). */
export class MemoryImage {
  private readonly map: PageMap | null;
  private parentMem: MemoryImage | null | undefined;

  constructor(private readonly img: ImageDir, private readonly pagemapName: string) {
    this.map = img.has(pagemapName) ? new PageMap(img, pagemapName) : null;
  }

  static ofProcess(img: ImageDir, pid: number): MemoryImage {
    if (!img.has(`pagemap-${pid}.img`)) throw new CryoError('BAD_IMAGE', `the checkpoint in ${img.dir} is missing pagemap-${pid}.img`, {
      hint: `the dump is incomplete, or that pid is not in this checkpoint; its processes: cryo x ${shellQuote(img.dir)} ps`, details: { file: img.path(`pagemap-${pid}.img`) },
    });
    return new MemoryImage(img, `pagemap-${pid}.img`);
  }

  private parent(): MemoryImage | null {
    if (this.parentMem === undefined) {
      const p = this.img.parent();
      this.parentMem = p && p.has(this.pagemapName) ? new MemoryImage(p, this.pagemapName) : null;
    }
    return this.parentMem;
  }

  /** Number of pages the pagemap lists (any flags) and of pages whose data is in the images. */
  pageRuns(): ReadonlyArray<{ vaddr: number; end: number; flags: number }> {
    return this.map ? this.map.runs : [];
  }

  /** The pieces that make up [start, end): contiguous, covering the whole range. */
  pieces(start: number, end: number): Piece[] {
    const out: Piece[] = [];
    let at = start;
    const push = (p: Piece) => {
      const last = out[out.length - 1];
      if (last && last.file === p.file && (p.file === null || last.offset + last.len === p.offset)) last.len += p.len;
      else out.push(p);
    };
    const runs = this.map ? this.map.runs : [];
    for (let i = this.map ? this.map.firstAfter(start) : 0; at < end && i < runs.length; i++) {
      const r = runs[i]!;
      if (r.vaddr >= end) break;
      if (r.vaddr > at) {
        push({ vaddr: at, len: r.vaddr - at, file: null, offset: 0 });
        at = r.vaddr;
      }
      const stop = Math.min(end, r.end);
      if (stop <= at) continue;
      if (r.flags & PE_PRESENT) {
        push({ vaddr: at, len: stop - at, file: this.map!.pagesFile, offset: r.offset + (at - r.vaddr) });
      } else if (r.flags & PE_PARENT) {
        const parent = this.parent();
        if (parent) for (const p of parent.pieces(at, stop)) push(p);
        else push({ vaddr: at, len: stop - at, file: null, offset: 0 });
      } else {
        push({ vaddr: at, len: stop - at, file: null, offset: 0 });
      }
      at = stop;
    }
    if (at < end) push({ vaddr: at, len: end - at, file: null, offset: 0 });
    return out;
  }
}

/** Positioned reads over pages files, one descriptor per file. */
export class PageFiles {
  private readonly fds = new Map<string, number>();

  fd(file: string): number {
    let fd = this.fds.get(file);
    if (fd === undefined) {
      // O_NONBLOCK and a regular file only: a planted FIFO or device must not block or feed endless bytes
      try {
        fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (e) {
        throw new CryoError('BAD_IMAGE', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'the checkpoint is incomplete or damaged; use a complete copy or dump again', details: { file }, cause: e });
      }
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new CryoError('BAD_IMAGE', `${file} is not a regular file`, { hint: 'the checkpoint is damaged or was tampered with; use a complete copy or dump again', details: { file } });
      }
      this.fds.set(file, fd);
    }
    return fd;
  }

  /** Fill buf[at, at+piece.len) with the piece's bytes (zeros where not dumped). */
  readPiece(p: Piece, buf: Buffer, at: number, skip = 0, len = p.len - skip): void {
    if (p.file === null) {
      buf.fill(0, at, at + len);
      return;
    }
    const fd = this.fd(p.file);
    let done = 0;
    while (done < len) {
      let n: number;
      try {
        n = readSync(fd, buf, at + done, len - done, p.offset + skip + done);
      } catch (e) {
        throw new CryoError('BAD_IMAGE', `cannot read ${p.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { hint: 'the pages file is damaged; use a complete copy or dump again', details: { file: p.file }, cause: e });
      }
      if (n <= 0) throw new CryoError('BAD_IMAGE', `${p.file} ends before offset ${p.offset + skip + done}`, { hint: 'the pages file is truncated; dump again', details: { file: p.file } });
      done += n;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

export interface MemoryRange {
  data: Buffer;
  /** sub-ranges [start, end) that were not in the images (their bytes are zero) */
  missing: Array<{ start: number; end: number }>;
}

/** Bytes of [start, start+len) from a list of pieces covering it. */
export function readPieces(pieces: Piece[], start: number, len: number, files: PageFiles): MemoryRange {
  const data = Buffer.alloc(len);
  const missing: Array<{ start: number; end: number }> = [];
  for (const p of pieces) {
    const s = Math.max(p.vaddr, start);
    const e = Math.min(p.vaddr + p.len, start + len);
    if (e <= s) continue;
    if (p.file === null) missing.push({ start: s, end: e });
    else files.readPiece(p, data, s - start, s - p.vaddr, e - s);
  }
  return { data, missing };
}

/** A path as one shell word, for hints that show a command to paste. */
function shellQuote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}
