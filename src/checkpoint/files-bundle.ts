// cryo-files.tar: the files a portable checkpoint carries, as one more file in the images directory
// (so every sink carries it unchanged). A POSIX pax tar (ustar headers, a pax "x" record before each
// entry with the exact path and mtime); only directories and regular files, paths stored without
// the leading "/". Any tar tool lists and extracts it; cryo writes and reads it itself.
import { createHash } from 'node:crypto';
import { closeSync, constants, fsyncSync, openSync, readSync, writeSync, type Stats } from 'node:fs';
import { CryoError } from '../errors.js';
import { isCleanAbsolutePath } from './meta-file.js';

export const FILES_BUNDLE = 'cryo-files.tar';

const BLOCK = 512;
const CHUNK = 1 << 20;

export interface BundleEntry {
  /** absolute path */
  path: string;
  kind: 'file' | 'dir';
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  size: number;
  /** where the contents start in the bundle (files) */
  offset: number;
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: '0' | '5' | 'x', size: number, st: { mode: number; uid: number; gid: number; mtimeMs: number }): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name.slice(0, 99), 0, 'utf8');
  h.write(octal(st.mode & 0o7777, 8), 100, 'latin1');
  h.write(octal(Math.min(st.uid, 0o7777777), 8), 108, 'latin1');
  h.write(octal(Math.min(st.gid, 0o7777777), 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(Math.max(0, Math.floor(st.mtimeMs / 1000)), 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\u000000', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** One pax record: "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

const padding = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);

/** Writes the bundle into a new file (O_EXCL, 0600); close() ends and fsyncs it. */
export class BundleWriter {
  private readonly fd: number;
  private pos = 0;
  entries = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  }

  private write(b: Buffer): void {
    for (let off = 0; off < b.length;) off += writeSync(this.fd, b, off, b.length - off);
    this.pos += b.length;
  }

  private writeHeader(path: string, type: '0' | '5', size: number, st: Stats): void {
    const rel = path.slice(1) + (type === '5' ? '/' : '');
    const pax = Buffer.from(paxRecord('path', rel) + paxRecord('mtime', (st.mtimeMs / 1000).toFixed(6)) + paxRecord('uid', String(st.uid)) + paxRecord('gid', String(st.gid)));
    this.write(header('PaxHeader', 'x', pax.length, st));
    this.write(pax);
    this.write(padding(pax.length));
    this.write(header(rel, type, size, st));
    this.entries++;
  }

  addDir(path: string, st: Stats): void {
    this.writeHeader(path, '5', 0, st);
  }

  /** Copies `st.size` bytes of the file open at `fd` (which must not change meanwhile); returns their sha256. */
  addFile(path: string, st: Stats, fd: number): string {
    this.writeHeader(path, '0', st.size, st);
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(st.size, 1)));
    let done = 0;
    while (done < st.size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, st.size - done), done);
      if (n === 0) throw new CryoError('FAILED', `${path} shrank while it was being copied into the checkpoint`, { hint: 'a process outside the tree writes it; stop that process or --exclude the file' });
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      this.write(chunk);
      done += n;
    }
    this.write(padding(st.size));
    return hash.digest('hex');
  }

  close(): void {
    try {
      this.write(Buffer.alloc(BLOCK * 2));
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
  }

  /** Closes without ending (the caller removes the file). */
  discard(): void {
    closeSync(this.fd);
  }
}

function damaged(file: string, what: string): CryoError {
  return new CryoError('BAD_IMAGE', `${file} is damaged: ${what}`, { hint: 'the checkpoint is damaged; use a complete copy or dump again', details: { file } });
}

function readExact(fd: number, pos: number, len: number): Buffer | undefined {
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, len - got, pos + got);
    if (n === 0) return got === 0 ? undefined : b.subarray(0, got);
    got += n;
  }
  return b;
}

function field(h: Buffer, off: number, len: number): string {
  const s = h.subarray(off, off + len).toString('utf8');
  const z = s.indexOf('\0');
  return (z < 0 ? s : s.slice(0, z)).trim();
}

function parsePax(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < b.length) {
    const sp = b.indexOf(0x20, p);
    if (sp < 0) break;
    const len = Number(b.subarray(p, sp).toString('latin1'));
    if (!Number.isSafeInteger(len) || len <= 0 || p + len > b.length) break;
    const rec = b.subarray(sp + 1, p + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    p += len;
  }
  return out;
}

/** The entries of a bundle file, checked (checksums, safe absolute paths, sizes within the file). */
export function readBundle(file: string): BundleEntry[] {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  const out: BundleEntry[] = [];
  try {
    let pos = 0;
    let pax: Record<string, string> = {};
    for (;;) {
      const h = readExact(fd, pos, BLOCK);
      if (!h || h.length < BLOCK) throw damaged(file, 'it ends without the end-of-archive blocks');
      if (h.every((b) => b === 0)) return out;
      const want = Number.parseInt(field(h, 148, 8), 8);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
      if (sum !== want) throw damaged(file, `a header checksum does not match at offset ${pos}`);
      const type = String.fromCharCode(h[156]!);
      const size = Number.parseInt(field(h, 124, 12) || '0', 8);
      if (!Number.isSafeInteger(size) || size < 0) throw damaged(file, `a bad size at offset ${pos}`);
      const body = pos + BLOCK;
      pos = body + Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x') {
        if (size > 1 << 20) throw damaged(file, 'an oversized pax header');
        const b = readExact(fd, body, size);
        if (!b || b.length < size) throw damaged(file, 'a truncated pax header');
        pax = parsePax(b);
        continue;
      }
      if (type !== '0' && type !== '5' && type !== '\0') throw damaged(file, `an entry of type '${type}' (only files and directories belong in it)`);
      const rel = (pax.path ?? field(h, 0, 100)).replace(/\/$/, '');
      const path = `/${rel}`;
      if (!isCleanAbsolutePath(path) || path === '/') throw damaged(file, `an unsafe path ${JSON.stringify(rel)}`);
      const mtimeMs = pax.mtime !== undefined ? Math.round(Number(pax.mtime) * 1000) : Number.parseInt(field(h, 136, 12), 8) * 1000;
      out.push({
        path,
        kind: type === '5' ? 'dir' : 'file',
        mode: Number.parseInt(field(h, 100, 8), 8) & 0o7777,
        uid: pax.uid !== undefined ? Number(pax.uid) : Number.parseInt(field(h, 108, 8), 8),
        gid: pax.gid !== undefined ? Number(pax.gid) : Number.parseInt(field(h, 116, 8), 8),
        mtimeMs: Number.isFinite(mtimeMs) ? mtimeMs : 0,
        size: type === '5' ? 0 : size,
        offset: body,
      });
      pax = {};
    }
  } finally {
    closeSync(fd);
  }
}

/** Copies one file entry's contents from the bundle into `outFd`; returns their sha256. */
export function copyBundleEntry(file: string, entry: BundleEntry, outFd: number): string {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(entry.size, 1)));
    for (let done = 0; done < entry.size;) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, entry.size - done), entry.offset + done);
      if (n === 0) throw damaged(file, `${entry.path} is cut short`);
      const chunk = buf.subarray(0, n);
      hash.update(chunk);
      for (let off = 0; off < n;) off += writeSync(outFd, chunk, off, n - off);
      done += n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}
