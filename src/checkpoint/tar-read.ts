// A streaming reader of tar archives (POSIX ustar, pax and GNU long names): enough for container
// checkpoint archives, which podman and CRI-O write with Go's archive/tar.
import { CryoError } from '../errors.js';
import { ChunkReader } from './chunk-reader.js';

const BLOCK = 512;

export interface TarEntry {
  /** the member's path, without a leading "./" */
  name: string;
  /** '0' a regular file, '5' a directory, '2' a symlink, ... (ustar's typeflag) */
  type: string;
  size: number;
}

function badTar(message: string): CryoError {
  return new CryoError('BAD_ARCHIVE', `not a valid tar archive: ${message}`, { hint: 'the checkpoint archive is damaged or not a tar; use a complete copy' });
}

function text(b: Buffer, at: number, len: number): string {
  const s = b.subarray(at, at + len);
  const nul = s.indexOf(0);
  return (nul < 0 ? s : s.subarray(0, nul)).toString('utf8');
}

/** A numeric header field: octal text, or base-256 when the high bit of its first byte is set. */
function number(b: Buffer, at: number, len: number): number {
  if (b[at]! & 0x80) {
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = text(b, at, len).trim();
  if (!/^[0-7]*$/.test(s)) throw badTar(`a header field holds "${s}", expected octal digits`);
  return s ? Number.parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
  return sum === number(h, 148, 8);
}

/** True when a 512-byte block is a tar header (ustar magic, or an old tar header whose checksum holds). */
export function isTarHeader(h: Buffer): boolean {
  if (h.length < BLOCK) return false;
  try {
    return h.toString('latin1', 257, 262) === 'ustar' ? checksumOk(h) : checksumOk(h) && h[0] !== 0;
  } catch {
    return false;
  }
}

function paxPath(body: Buffer): string | undefined {
  let at = 0;
  let path: string | undefined;
  while (at < body.length) {
    const sp = body.indexOf(0x20, at);
    if (sp < 0) break;
    const len = Number(body.toString('latin1', at, sp));
    if (!Number.isInteger(len) || len <= 0) break;
    const rec = body.toString('utf8', sp + 1, at + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    at += len;
  }
  return path;
}

/**
 * Reads a tar stream entry by entry. `onEntry` gets each member and its body (which it may read or
 * leave: what it leaves is skipped).
 */
export async function readTar(source: AsyncIterable<Uint8Array>, onEntry: (e: TarEntry, body: AsyncGenerator<Buffer>) => Promise<void>): Promise<void> {
  const r = ChunkReader.of(source, 'tar archive');
  let longName: string | undefined;
  for (;;) {
    if (await r.atEnd()) return; // some writers omit the two zero blocks
    const h = await r.read(BLOCK);
    if (h.every((x) => x === 0)) return;
    if (!checksumOk(h)) throw badTar('a header checksum does not match');
    const type = String.fromCharCode(h[156] || 0x30);
    const size = number(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L' || type === 'g') {
      if (size > 1 << 20) throw badTar(`an extended header of ${size} bytes`);
      const body = (await r.read(padded)).subarray(0, size);
      if (type === 'x') longName = paxPath(body) ?? longName;
      else if (type === 'L') longName = text(body, 0, body.length);
      continue;
    }
    const prefix = h.toString('latin1', 257, 262) === 'ustar' ? text(h, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${text(h, 0, 100)}` : text(h, 0, 100));
    longName = undefined;
    name = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    let left = type === '0' || type === '7' ? size : type === '5' || type === '2' || type === '1' ? 0 : size;
    async function* body(): AsyncGenerator<Buffer> {
      for await (const p of r.pieces(left)) {
        left -= p.length;
        yield p;
      }
    }
    await onEntry({ name, type: type === '7' ? '0' : type, size }, body());
    // skip what the caller left, then the padding
    for await (const _ of r.pieces(left)) void _;
    if (padded - size) await r.read(padded - size);
  }
}
