// A process's address space as dumped: its VMAs, with pages from its own pagemap or, for
// anonymous shared mappings, from the shared object's pagemap-shmem image.
import { CryoError } from '../errors.js';
import { ImageDir, type Entry } from './images.js';
import { MemoryImage, PageFiles, readPieces, VMA_ANON_SHARED, VMA_AREA_MEMFD, VMA_AREA_SYSVIPC, type MemoryRange, type Piece } from './memory.js';

export interface Vma {
  start: number;
  end: number;
  /** exact bounds, for addresses beyond 2^53 (vsyscall) */
  startBig: bigint;
  endBig: bigint;
  entry: Entry;
}

export class AddressSpace {
  readonly vmas: Vma[];
  readonly mm: Entry;
  private readonly own: MemoryImage;
  private readonly shmem = new Map<string, MemoryImage>();

  constructor(readonly img: ImageDir, readonly pid: number) {
    this.mm = img.first(`mm-${pid}.img`);
    this.vmas = ((this.mm.vmas ?? []) as Entry[]).map((v) => ({
      start: Number(v.start ?? 0), end: Number(v.end ?? 0), startBig: BigInt(v.start ?? 0), endBig: BigInt(v.end ?? 0), entry: v,
    }));
    // the lookups below bisect: VMAs must be non-empty, sorted and apart, as the kernel keeps them
    for (let i = 0; i < this.vmas.length; i++) {
      const v = this.vmas[i]!;
      if (v.startBig >= v.endBig || v.startBig % 4096n !== 0n || v.endBig % 4096n !== 0n || (i > 0 && this.vmas[i - 1]!.endBig > v.startBig)) {
        throw new CryoError('BAD_IMAGE', `mm-${pid}.img in ${img.dir}: VMA ${i} (${v.startBig.toString(16)}-${v.endBig.toString(16)}) is empty, unaligned or overlaps the one before`, {
          hint: 'the checkpoint is damaged; use a complete copy or dump again', details: { file: img.path(`mm-${pid}.img`), vma: i },
        });
      }
    }
    this.own = MemoryImage.ofProcess(img, pid);
  }

  private readonly sharedCache = new Map<number, string | undefined>();

  private sharedOf(i: number): string | undefined {
    if (!this.sharedCache.has(i)) this.sharedCache.set(i, this.sharedObject(this.vmas[i]!));
    return this.sharedCache.get(i);
  }

  /** The VMA containing addr, or undefined. */
  vmaAt(addr: number): Vma | undefined {
    return this.vmas[this.vmaIndexAt(addr)];
  }

  /** index of the VMA containing addr, or -1 */
  vmaIndexAt(addr: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.end <= addr) lo = mid + 1;
      else hi = mid;
    }
    const v = this.vmas[lo];
    return v && v.start <= addr ? lo : -1;
  }

  private shmemImage(shmid: string): MemoryImage {
    let m = this.shmem.get(shmid);
    if (!m) {
      m = new MemoryImage(this.img, `pagemap-shmem-${shmid}.img`);
      this.shmem.set(shmid, m);
    }
    return m;
  }

  /**
   * The shared memory object behind a VMA, or undefined for private memory. Anonymous shared
   * mappings name it directly (shmid); memfd mappings (also how kernels 6.x show MAP_SHARED|
   * MAP_ANONYMOUS) through their file -> memfd inode -> shmid.
   */
  sharedObject(v: Vma): string | undefined {
    const st = Number(v.entry.status);
    // SysV shared memory: pagemap-shmem-<ipc id> when CRIU wrote its pages there (in_pagemaps)
    if (st & (VMA_ANON_SHARED | VMA_AREA_SYSVIPC)) return String(v.entry.shmid);
    if (st & VMA_AREA_MEMFD) {
      const file = this.img.optional('files.img')?.find((f) => Number(f.id) === Number(v.entry.shmid));
      const inodeId = file?.memfd?.inode_id;
      const inode = this.img.optional('memfd.img')?.find((m) => Number(m.inode_id) === Number(inodeId));
      return inode?.shmid !== undefined ? String(inode.shmid) : undefined;
    }
    return undefined;
  }

  /** Pieces covering [start, end), following VMAs (shared ones through their shmem image). */
  pieces(start: number, end: number): Piece[] {
    const out: Piece[] = [];
    let at = start;
    while (at < end) {
      const vi = this.vmaIndexAt(at);
      const v = this.vmas[vi];
      const shared = v ? this.sharedOf(vi) : undefined;
      if (v && shared !== undefined) {
        const stop = Math.min(end, v.end);
        const base = v.start - Number(v.entry.pgoff ?? 0);
        for (const p of this.shmemImage(shared).pieces(at - base, stop - base)) out.push({ ...p, vaddr: p.vaddr + base });
        at = stop;
        continue;
      }
      // up to the next shared VMA (or the end), from the process's own pagemap
      let stop = end;
      for (let i = v ? vi + 1 : this.nextVmaIndex(at); i < this.vmas.length && this.vmas[i]!.start < end; i++) {
        if (this.sharedOf(i) !== undefined) {
          stop = Math.max(at, this.vmas[i]!.start);
          break;
        }
      }
      for (const p of this.own.pieces(at, stop)) out.push(p);
      at = stop;
    }
    return out;
  }

  private nextVmaIndex(addr: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.start < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Bytes of [addr, addr+len): zeros where not dumped, listed in `missing`. */
  read(addr: number, len: number, files: PageFiles): MemoryRange {
    if (!Number.isSafeInteger(addr) || !Number.isSafeInteger(len) || len < 0) {
      throw new CryoError('USAGE', `bad memory range ${addr}+${len}`, { hint: 'give a start address and a non-negative length, both at most 2^53-1' });
    }
    return readPieces(this.pieces(addr, addr + len), addr, len, files);
  }

  /** Pieces with data, for every VMA, merged where address-contiguous. */
  dumpedPieces(): Piece[] {
    const out: Piece[] = [];
    for (const v of this.vmas) {
      if (v.end > Number.MAX_SAFE_INTEGER) continue;
      for (const p of this.pieces(v.start, v.end)) if (p.file !== null) out.push(p);
    }
    return out;
  }
}
