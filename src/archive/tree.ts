// Facts the archive manifest records: the dumped tree (from pstree.img), CRIU's dump statistics
// (from stats-dump), command lines, cryo's version. Decoded here from the wire format directly so
// archiving needs no schema loading.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ArchiveManifest, ArchiveProcess } from './format.js';

type Fields = Map<number, Array<number | Buffer>>;

function varint(b: Buffer, at: { pos: number }): number {
  let v = 0;
  let mul = 1;
  for (;;) {
    if (at.pos >= b.length) throw new Error('truncated varint');
    const byte = b[at.pos++];
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return v;
    mul *= 128;
  }
}

/** Decodes one protobuf message into field number -> values (varints as numbers, length-delimited as Buffers). */
function fields(b: Buffer): Fields {
  const out: Fields = new Map();
  const at = { pos: 0 };
  while (at.pos < b.length) {
    const key = varint(b, at);
    const no = Math.floor(key / 8);
    const wt = key & 7;
    let v: number | Buffer;
    if (wt === 0) v = varint(b, at);
    else if (wt === 2) {
      const n = varint(b, at);
      v = b.subarray(at.pos, at.pos + n);
      at.pos += n;
    } else if (wt === 5) {
      v = b.readUInt32LE(at.pos);
      at.pos += 4;
    } else if (wt === 1) {
      v = Number(b.readBigUInt64LE(at.pos));
      at.pos += 8;
    } else throw new Error(`unsupported wire type ${wt}`);
    const list = out.get(no) ?? [];
    list.push(v);
    out.set(no, list);
  }
  return out;
}

/** Entries of a CRIU image file: magic words, then u32 size + message. */
function entries(img: Buffer, magics: number): Buffer[] {
  const out: Buffer[] = [];
  let pos = 4 * magics;
  while (pos + 4 <= img.length) {
    const n = img.readUInt32LE(pos);
    pos += 4;
    out.push(img.subarray(pos, pos + n));
    pos += n;
  }
  return out;
}

const num = (f: Fields, no: number): number | undefined => {
  const v = f.get(no)?.[0];
  return typeof v === 'number' ? v : undefined;
};

function repeated(f: Fields, no: number): number[] {
  const out: number[] = [];
  for (const v of f.get(no) ?? []) {
    if (typeof v === 'number') out.push(v);
    else {
      const at = { pos: 0 };
      while (at.pos < v.length) out.push(varint(v, at));
    }
  }
  return out;
}

/** The processes CRIU dumped (pstree.img), root first. */
export async function readPstree(path: string): Promise<ArchiveProcess[]> {
  const img = await readFile(path);
  return entries(img, 2).map((e) => {
    const f = fields(e);
    return { pid: num(f, 1) ?? 0, ppid: num(f, 2) ?? 0, pgid: num(f, 3), sid: num(f, 4), threads: repeated(f, 5) };
  });
}

/** CRIU's dump statistics (stats-dump), microseconds. */
export async function readDumpStats(path: string): Promise<NonNullable<ArchiveManifest['stats']> | undefined> {
  let img: Buffer;
  try {
    img = await readFile(path);
  } catch {
    return undefined;
  }
  const [e] = entries(img, 2);
  if (!e) return undefined;
  const dump = fields(e).get(1)?.[0];
  if (!Buffer.isBuffer(dump)) return undefined;
  const d = fields(dump);
  return {
    freezingTimeUs: num(d, 1),
    frozenTimeUs: num(d, 2),
    memdumpTimeUs: num(d, 3),
    memwriteTimeUs: num(d, 4),
    pagesWritten: num(d, 7),
  };
}

let version: string | undefined;
export function cryoVersion(): string {
  if (version) return version;
  try {
    // dist/src/archive/tree.js -> package.json at the project root
    version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    version = 'unknown';
  }
  return version;
}
