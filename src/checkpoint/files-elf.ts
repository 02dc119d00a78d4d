// The ELF build-id (NT_GNU_BUILD_ID note) of an executable or shared library, read from its program
// headers: two builds of one library differ in it even when size and mtime match.
import { readSync } from 'node:fs';

const PT_NOTE = 4;
const NT_GNU_BUILD_ID = 3;
const MAX_NOTES = 1 << 16;

function readAt(fd: number, pos: number, len: number): Buffer | undefined {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) return undefined;
    got += n;
  }
  return b;
}

/** Hex build-id of the ELF file open at `fd`, or undefined (not ELF, no note, unreadable). */
export function readBuildId(fd: number): string | undefined {
  try {
    const h = readAt(fd, 0, 64);
    if (!h || h.readUInt32BE(0) !== 0x7f454c46) return undefined;
    const is64 = h[4] === 2;
    const le = h[5] === 1;
    const u16 = (b: Buffer, o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const u32 = (b: Buffer, o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u64 = (b: Buffer, o: number) => Number(le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o));
    const phoff = is64 ? u64(h, 32) : u32(h, 28);
    const phentsize = u16(h, is64 ? 54 : 42);
    const phnum = u16(h, is64 ? 56 : 44);
    if (phnum === 0 || phentsize < (is64 ? 56 : 32) || phnum > 4096) return undefined;
    const ph = readAt(fd, phoff, phentsize * phnum);
    if (!ph) return undefined;
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      if (u32(ph, o) !== PT_NOTE) continue;
      const off = is64 ? u64(ph, o + 8) : u32(ph, o + 4);
      const size = is64 ? u64(ph, o + 32) : u32(ph, o + 16);
      const align = Math.max(4, is64 ? u64(ph, o + 48) : u32(ph, o + 28));
      if (size > MAX_NOTES) continue;
      const notes = readAt(fd, off, size);
      if (!notes) continue;
      const pad = (n: number) => Math.ceil(n / align) * align;
      for (let p = 0; p + 12 <= notes.length;) {
        const namesz = u32(notes, p);
        const descsz = u32(notes, p + 4);
        const type = u32(notes, p + 8);
        const name = notes.subarray(p + 12, p + 12 + namesz);
        const desc = p + 12 + pad(namesz);
        if (desc + descsz > notes.length) break;
        if (type === NT_GNU_BUILD_ID && name.toString('latin1') === 'GNU\0') return notes.subarray(desc, desc + descsz).toString('hex');
        p = desc + pad(descsz);
      }
    }
  } catch {
    // unreadable: no build-id
  }
  return undefined;
}
