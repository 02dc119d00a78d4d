// Cuts a zstd stream into its frames without decoding them (RFC 8878: frame header, then 3-byte
// block headers that give each block's size), so that frames can be decoded in parallel. Anything
// it does not plan for (unknown content size, a large frame, a skippable frame, bad bits) is handed
// back as "the rest of the stream" for the sequential decoder, which checks it fully.
import { CryoError } from '../errors.js';

const ZSTD_MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 << 10;

/** A complete frame (its compressed bytes, in pieces) or everything from a point the cutter does not split. */
export type FrameCut = { pieces: Buffer[]; contentSize: number } | { rest: AsyncIterable<Buffer> };

function truncated(): CryoError {
  return new CryoError('BAD_ARCHIVE', 'archive is truncated (the compressed data ends inside a frame)', {
    hint: 'the archive was not completely written or copied; use a complete copy',
  });
}

class ByteQueue {
  private bufs: Buffer[] = [];
  /** bytes queued */
  size = 0;
  private ended = false;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Pulls until `n` bytes are queued; false at the end of the input. */
  async ensure(n: number): Promise<boolean> {
    while (this.size < n) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      if (r.value.length === 0) continue;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
      this.bufs.push(b);
      this.size += b.length;
    }
    return true;
  }

  /** The byte at `off` (queued). */
  byte(off: number): number {
    for (const b of this.bufs) {
      if (off < b.length) return b[off];
      off -= b.length;
    }
    throw new RangeError('offset past the queued bytes');
  }

  /** Little-endian unsigned integer of `n` (<= 6) bytes at `off`. */
  uint(off: number, n: number): number {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + this.byte(off + i);
    return v;
  }

  /** Removes the first `n` queued bytes, as pieces (no copy). */
  take(n: number): Buffer[] {
    const out: Buffer[] = [];
    while (n > 0) {
      const b = this.bufs[0];
      if (b.length <= n) {
        out.push(b);
        this.bufs.shift();
        n -= b.length;
        this.size -= b.length;
      } else {
        out.push(b.subarray(0, n));
        this.bufs[0] = b.subarray(n);
        this.size -= n;
        n = 0;
      }
    }
    return out;
  }

  /** Everything left: the queued bytes, then the rest of the input. */
  async *rest(): AsyncGenerator<Buffer> {
    const queued = this.take(this.size);
    yield* queued;
    if (this.ended) return;
    for (;;) {
      const r = await this.it.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
  }
}

/** The frame's compressed size when the queued bytes start with a frame this cutter splits, else undefined. */
async function measureFrame(q: ByteQueue, maxContent: number): Promise<{ size: number; contentSize: number } | undefined> {
  if (!(await q.ensure(5))) throw truncated();
  if (q.uint(0, 4) !== ZSTD_MAGIC) return undefined;
  const fhd = q.byte(4);
  const single = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  if ((fhd & 0x08) !== 0 || (fhd & 0x03) !== 0) return undefined; // reserved bit, or a dictionary
  if (fcsFlag === 0 && !single) return undefined; // content size unknown
  const fcsBytes = [single ? 1 : 0, 2, 4, 8][fcsFlag];
  const header = 5 + (single ? 0 : 1) + fcsBytes;
  if (!(await q.ensure(header))) throw truncated();
  const at = header - fcsBytes;
  let contentSize: number;
  if (fcsBytes === 8) {
    if (q.uint(at + 6, 2) !== 0) return undefined;
    contentSize = q.uint(at, 6);
  } else {
    contentSize = q.uint(at, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
  }
  if (contentSize > maxContent) return undefined;
  // a frame's blocks hold at most its content, plus headers; more is not a frame to buffer whole
  const maxSize = header + contentSize + 3 * (Math.ceil(contentSize / BLOCK_MAX) + 1) + 4;
  let off = header;
  for (;;) {
    if (!(await q.ensure(off + 3))) throw truncated();
    const bh = q.uint(off, 3);
    const type = (bh >> 1) & 3;
    const bsize = bh >> 3;
    if (type === 3 || (type !== 1 && bsize > BLOCK_MAX)) return undefined;
    off += 3 + (type === 1 ? 1 : bsize);
    if (off > maxSize) return undefined;
    if (bh & 1) break;
  }
  if ((fhd >> 2) & 1) off += 4;
  if (!(await q.ensure(off))) throw truncated();
  return { size: off, contentSize };
}

/**
 * Splits a zstd stream into whole frames of at most `maxContent` decoded bytes with their content
 * size in the header; from the first frame that is not one, yields the rest of the stream once.
 */
export async function* cutFrames(source: AsyncIterable<Uint8Array>, maxContent: number): AsyncGenerator<FrameCut> {
  const q = new ByteQueue(source[Symbol.asyncIterator]());
  for (;;) {
    if (!(await q.ensure(1))) return;
    const m = await measureFrame(q, maxContent);
    if (!m) {
      yield { rest: q.rest() };
      return;
    }
    yield { pieces: q.take(m.size), contentSize: m.contentSize };
  }
}
