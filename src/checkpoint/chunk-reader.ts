// Exact-size reads over an async stream of chunks, without seeking and without copying
// more than the bytes asked for.
import { CryoError } from '../errors.js';

export class ChunkReader {
  private pending: Buffer = Buffer.alloc(0);
  private done = false;
  /** bytes handed out so far */
  consumed = 0;
  constructor(private readonly it: AsyncIterator<Uint8Array>, private readonly what = 'archive') {}

  static of(source: AsyncIterable<Uint8Array>, what?: string): ChunkReader {
    return new ChunkReader(source[Symbol.asyncIterator](), what);
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    for (;;) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      if (r.value.length === 0) continue;
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
      this.pending = this.pending.length === 0 ? b : Buffer.concat([this.pending, b]);
      return true;
    }
  }

  /** Exactly n bytes, or BAD_ARCHIVE (truncated). */
  async read(n: number): Promise<Buffer> {
    while (this.pending.length < n) {
      if (!(await this.fill())) throw truncated(this.what, this.consumed + this.pending.length);
    }
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    this.consumed += n;
    return out;
  }

  /** n bytes as they arrive, in pieces. */
  async *pieces(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) throw truncated(this.what, this.consumed);
      const take = Math.min(left, this.pending.length);
      const out = this.pending.subarray(0, take);
      this.pending = this.pending.subarray(take);
      this.consumed += take;
      left -= take;
      yield out;
    }
  }

  /** Everything that is left. */
  async *rest(): AsyncGenerator<Buffer> {
    if (this.pending.length > 0) {
      const b = this.pending;
      this.pending = Buffer.alloc(0);
      this.consumed += b.length;
      yield b;
    }
    while (await this.fill()) {
      const b = this.pending;
      this.pending = Buffer.alloc(0);
      this.consumed += b.length;
      yield b;
    }
  }

  /** True when the stream has no more bytes. */
  async atEnd(): Promise<boolean> {
    if (this.pending.length > 0) return false;
    return !(await this.fill());
  }
}

function truncated(what: string, at: number): CryoError {
  return new CryoError('BAD_ARCHIVE', `${what} is truncated (ends after ${at} bytes)`, {
    hint: 'the archive was not completely written or copied; use a complete copy',
    details: { offset: at },
  });
}

/**
 * Pulls up to `depth` items ahead of the consumer, so that a producer running on another thread
 * (libzstd through koffi, file reads) works while the consumer hashes or writes.
 */
export async function* readAhead<T>(src: AsyncIterable<T>, depth = 4): AsyncGenerator<T> {
  const it = src[Symbol.asyncIterator]();
  const queue: Array<Promise<IteratorResult<T>>> = [];
  let finished = false;
  try {
    for (;;) {
      while (!finished && queue.length < depth) {
        const p = it.next();
        p.catch(() => {}); // observed when its turn comes
        queue.push(p);
      }
      const r = await queue.shift()!;
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!finished) await it.return?.(undefined);
  }
}
