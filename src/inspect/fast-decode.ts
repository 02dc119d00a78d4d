// Lean decoders for the two images that grow with a process's size (mm-*.img with one vma_entry
// per mapping, pagemap-*.img with one entry per page run): inspection reads tens of thousands of
// these, so they skip the general codec's bookkeeping (unknown-field capture, exact re-encode).
// 64-bit values are numbers when below 2^53 (every user-space address) and bigints above.
import { CryoError } from '../errors.js';

const IMG_COMMON = 0x54564319;
const IMG_SERVICE = 0x55105940;

type U64 = number | bigint;

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, readonly file: string, start: number, readonly end: number) {
    this.pos = start;
  }

  fail(what: string): never {
    throw new CryoError('BAD_IMAGE', `${this.file}: ${what} at offset ${this.pos}`, { hint: 'the checkpoint is truncated or damaged; dump again', details: { file: this.file, offset: this.pos } });
  }

  varint(): U64 {
    const buf = this.buf;
    const start = this.pos;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
    // more than 49 bits: exact as a bigint
    this.pos = start;
    let big = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = buf[this.pos++]!;
      big |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        big = BigInt.asUintN(64, big);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      shift += 7n;
    }
    return this.fail('varint longer than 10 bytes');
  }

  u32(): number {
    const v = this.varint();
    return typeof v === 'number' ? v >>> 0 : Number(BigInt.asUintN(32, v));
  }

  i32(): number {
    const v = this.varint();
    return typeof v === 'number' ? v | 0 : Number(BigInt.asIntN(32, v));
  }

  sint64(): U64 {
    const v = this.varint();
    if (typeof v === 'number') return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    const s = (v >> 1n) ^ -(v & 1n);
    return s >= BigInt(Number.MIN_SAFE_INTEGER) && s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
  }

  /** length-delimited: returns [start, end) and moves past it */
  bytes(): [number, number] {
    const len = Number(this.varint());
    const s = this.pos;
    if (s + len > this.end) this.fail('truncated field');
    this.pos = s + len;
    return [s, s + len];
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else this.fail(`unsupported wire type ${wire}`);
    if (this.pos > this.end) this.fail('truncated field');
  }
}

/** Frame an image: magic(s), then u32 size + message; calls `each` with the message bounds. */
function frames(buf: Buffer, file: string, each: (start: number, end: number, index: number) => void): void {
  if (buf.length < 8) throw new CryoError('BAD_IMAGE', `${file}: too short to be an image`, { details: { file } });
  const m0 = buf.readUInt32LE(0);
  if (m0 !== IMG_COMMON && m0 !== IMG_SERVICE) throw new CryoError('BAD_IMAGE', `${file}: unknown magic 0x${m0.toString(16)}`, { details: { file } });
  let off = 8;
  let i = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new CryoError('BAD_IMAGE', `${file}: truncated entry header at offset ${off}`, { details: { file } });
    const size = buf.readUInt32LE(off);
    off += 4;
    if (off + size > buf.length) throw new CryoError('BAD_IMAGE', `${file}: entry ${i} at offset ${off - 4} claims ${size} bytes, only ${buf.length - off} left`, { details: { file } });
    each(off, off + size, i++);
    off += size;
  }
}

function decodeVma(r: Reader, end: number): Record<string, unknown> {
  const v: Record<string, unknown> = { start: 0, end: 0, pgoff: 0, shmid: 0, prot: 0, flags: 0, status: 0, fd: 0 };
  const outer = r.end;
  (r as { end: number }).end = end;
  while (r.pos < end) {
    const tag = r.u32();
    const id = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) {
      switch (id) {
        case 1: v.start = r.varint(); continue;
        case 2: v.end = r.varint(); continue;
        case 3: v.pgoff = r.varint(); continue;
        case 4: v.shmid = r.varint(); continue;
        case 5: v.prot = r.u32(); continue;
        case 6: v.flags = r.u32(); continue;
        case 7: v.status = r.u32(); continue;
        case 8: v.fd = r.sint64(); continue;
        case 9: v.madv = r.varint(); continue;
        case 10: v.fdflags = r.u32(); continue;
      }
    }
    r.skip(wire);
  }
  (r as { end: number }).end = outer;
  return v;
}

const MM_U64 = ['', 'mm_start_code', 'mm_end_code', 'mm_start_data', 'mm_end_data', 'mm_start_stack', 'mm_start_brk', 'mm_brk', 'mm_arg_start', 'mm_arg_end', 'mm_env_start', 'mm_env_end'];

/** mm-<pid>.img: one mm_entry (vmas, saved auxv, code/data/brk/arg/env bounds). */
export function decodeMmImage(buf: Buffer, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  frames(buf, file, (start, end) => {
    const r = new Reader(buf, file, start, end);
    const mm: Record<string, unknown> = { vmas: [] };
    const vmas = mm.vmas as unknown[];
    while (r.pos < end) {
      const tag = r.u32();
      const id = tag >>> 3;
      const wire = tag & 7;
      if (id >= 1 && id <= 11 && wire === 0) mm[MM_U64[id]!] = r.varint();
      else if (id === 12 && wire === 0) mm.exe_file_id = r.u32();
      else if (id === 14 && wire === 2) {
        const [s, e] = r.bytes();
        r.pos = s;
        vmas.push(decodeVma(r, e));
        r.pos = e;
      } else if (id === 13) {
        const auxv = (mm.mm_saved_auxv ??= []) as U64[];
        if (wire === 2) {
          const [s, e] = r.bytes();
          const sub = new Reader(buf, file, s, e);
          while (sub.pos < e) auxv.push(sub.varint());
        } else auxv.push(r.varint());
      } else if (id === 15 && wire === 0) mm.dumpable = r.i32();
      else if (id === 17 && wire === 0) mm.thp_disabled = r.u32() !== 0;
      else r.skip(wire);
    }
    out.push(mm);
  });
  return out;
}

/** pagemap-*.img / pagemap-shmem-*.img: the head ({pages_id}) then one entry per page run. */
export function decodePagemapImage(buf: Buffer, file: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  frames(buf, file, (start, end, index) => {
    const r = new Reader(buf, file, start, end);
    const e: Record<string, unknown> = index === 0 ? {} : { vaddr: 0, compat_nr_pages: 0 };
    while (r.pos < end) {
      const tag = r.u32();
      const id = tag >>> 3;
      const wire = tag & 7;
      if (wire !== 0) {
        r.skip(wire);
        continue;
      }
      if (index === 0) {
        if (id === 1) e.pages_id = r.u32();
        else r.skip(wire);
        continue;
      }
      switch (id) {
        case 1: e.vaddr = r.varint(); break;
        case 2: e.compat_nr_pages = r.u32(); break;
        case 3: e.in_parent = r.u32() !== 0; break;
        case 4: e.flags = r.u32(); break;
        case 5: e.nr_pages = r.varint(); break;
        default: r.skip(wire);
      }
    }
    out.push(e);
  });
  return out;
}
